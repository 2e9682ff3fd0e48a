// DeadlinePool: deadlines, replacement of an abandoned worker, shutdown with a hung call.
#include "base/deadline_pool.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>

using namespace tether;
using namespace std::chrono_literals;

namespace {

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit = 5000ms) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

}  // namespace

TEST_CASE("deadline pool: an overdue call is reported at its deadline and its worker replaced") {
    auto release = std::make_shared<std::atomic<bool>>(false);
    std::atomic<int> in_time{0}, late{0};
    DeadlinePool pool(1);
    pool.submit([release] { while (!*release) std::this_thread::sleep_for(1ms); }, 50ms,
                [&](bool ok) { (ok ? in_time : late)++; });
    pool.submit([] {}, 1000ms, [&](bool ok) { (ok ? in_time : late)++; });
    REQUIRE(wait_for([&] { return late == 1 && in_time == 1; }));
    CHECK(pool.abandoned_running() == 1);
    *release = true;
    REQUIRE(wait_for([&] { return pool.abandoned_running() == 0; }));
    CHECK(late == 1);  // done is never called twice
    CHECK(in_time == 1);
}

TEST_CASE("deadline pool: destruction waits out a hung call's deadline, drops queued work") {
    auto release = std::make_shared<std::atomic<bool>>(false);
    std::atomic<int> calls{0};
    auto start = std::chrono::steady_clock::now();
    {
        DeadlinePool pool(1);
        pool.submit([release] { while (!*release) std::this_thread::sleep_for(1ms); }, 100ms,
                    [&](bool ok) { calls += ok ? 100 : 1; });
        pool.submit([] {}, 100ms, [&](bool) { calls += 1000; });
        std::this_thread::sleep_for(10ms);  // let the first call start
    }
    CHECK(std::chrono::steady_clock::now() - start < 2000ms);
    CHECK(calls == 1);  // the hung call timed out; the queued one was dropped
    *release = true;    // the abandoned thread owns only what its work captured
    std::this_thread::sleep_for(20ms);
}
