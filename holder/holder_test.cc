// Tests for the holder (tether-holder) through HolderLink, on real processes and PTYs:
// output with offsets, exit and collection, reconnection with exactly-once resume, the
// window that leaves a program blocked, and refusals. Waits are bounded by poll()
// timeouts that act only as safety limits; nothing asserts on timing.
#include "wire/holder_link.h"

#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "holder_survey.h"
#include "terminal/pty_process.h"
#include "support.h"

namespace tether {
namespace {

constexpr int k_safety_ms = 10000;

std::string holder_binary() {
    return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "tether-holder").string();
}

HolderStart start_request(const test::TempDir& dir, std::vector<std::string> argv, size_t window = 1u << 20) {
    return HolderStart{.session = 7,
                       .holder_binary = holder_binary(),
                       .socket_path = dir.file("7.sock"),
                       .state_dir = dir.path().string(),
                       .window = window,
                       .spawn = SpawnRequest{.argv = std::move(argv),
                                             .env = {std::string("PATH=") + std::getenv("PATH")},
                                             .cols = 80,
                                             .rows = 24}};
}

// A failed check must not leave a holder (and its program) running after the test.
struct KillOnExit {
    pid_t pid = 0;
    ~KillOnExit() {
        if (pid > 0) kill(pid, SIGKILL);
    }
};

std::unique_ptr<HolderLink> start_ok(const HolderStart& req, KillOnExit& guard) {
    auto link = HolderLink::start(req);
    if (!link) FAIL("holder start failed: " << link.error().message);
    guard.pid = (*link)->holder_pid();
    return std::move(link).value();
}

// What a daemon would see: output by offset, and the exit.
struct Seen {
    std::string output;
    uint64_t first_offset = UINT64_MAX;
    std::optional<PtyProcess::Exit> exit;
    bool closed = false;
};

// Reads frames until pred(seen) holds. ack: acknowledge output as it arrives.
template <typename Pred>
void pump(HolderLink& link, Seen& seen, Pred pred, bool ack = true) {
    while (!pred(seen)) {
        REQUIRE(link.write());
        pollfd p{link.fd(), POLLIN, 0};
        REQUIRE_MESSAGE(poll(&p, 1, k_safety_ms) > 0, "no frame within the safety limit; output so far: " << seen.output);
        bool open = link.read(1u << 20);
        std::string error;
        while (auto frame = link.next(&error)) {
            if (frame->type == HolderMsg::Output) {
                uint64_t offset = *holder_payload_offset(frame->payload);
                if (seen.first_offset == UINT64_MAX) seen.first_offset = offset;
                seen.output += frame->payload.substr(8);
                if (ack) link.ack(offset + frame->payload.size() - 8);
            } else if (frame->type == HolderMsg::Exit) {
                auto f = HolderFields::decode(frame->payload);
                seen.exit = PtyProcess::Exit{f.get_int("signaled") != 0, static_cast<int>(f.get_int("code")), false};
            }
        }
        REQUIRE(error.empty());
        if (!open) {
            seen.closed = true;
            return;
        }
    }
}

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

TEST_CASE("holder: runs the program, relays its output, reports its exit, ends once collected") {
    test::TempDir dir;
    KillOnExit guard;
    auto link = start_ok(start_request(dir, {"sh", "-c", "printf 'hello from the holder'; exit 3"}), guard);
    CHECK(link->hello().session == 7);
    CHECK(link->agent_pid() > 0);
    CHECK(link->holder_pid() != getpid());
    CHECK(std::filesystem::exists(dir.file("7.sock")));
    link->resume(0);
    Seen seen;
    pump(*link, seen, [](const Seen& s) { return s.exit.has_value(); });
    CHECK(seen.first_offset == 0);
    CHECK(contains(seen.output, "hello from the holder"));
    CHECK(seen.exit->code == 3);
    CHECK_FALSE(seen.exit->signaled);
    link->collect();
    pump(*link, seen, [](const Seen& s) { return s.closed; });
    CHECK(seen.closed);
    CHECK_FALSE(std::filesystem::exists(dir.file("7.sock")));
}

TEST_CASE("holder: a command that cannot run is an error naming it, and no holder stays") {
    test::TempDir dir;
    KillOnExit guard;
    auto link = HolderLink::start(start_request(dir, {"tether-no-such-command"}));
    REQUIRE_FALSE(link);
    CHECK(contains(link.error().message, "tether-no-such-command"));
    CHECK(contains(link.error().message, "No such file"));
    CHECK_FALSE(std::filesystem::exists(dir.file("7.sock")));
}

TEST_CASE("holder: a new daemon resumes from the last acknowledged byte, exactly once") {
    test::TempDir dir;
    KillOnExit guard;
    auto first = start_ok(start_request(dir, {"sh", "-c", "printf 'one;'; read x; printf 'two;'; read y; printf 'three;'"}), guard);
    first->resume(0);
    Seen a;
    pump(*first, a, [](const Seen& s) { return contains(s.output, "one;"); });
    first->input("go\n");
    pump(*first, a, [](const Seen& s) { return contains(s.output, "two;"); }, /*ack=*/false);
    // The first daemon dies having made "one;" and the echo durable but not "two;".
    uint64_t acked = a.output.find("two;");
    first->ack(acked);
    REQUIRE(first->write());
    first.reset();

    auto second = HolderLink::connect(dir.file("7.sock"), k_safety_ms);
    REQUIRE_MESSAGE(second, second.error().message);
    CHECK((*second)->hello().acked == acked);
    CHECK((*second)->hello().produced >= acked + 4);
    CHECK((*second)->hello().disconnected_us > 0);
    // Only one daemon at a time.
    auto third = HolderLink::connect(dir.file("7.sock"), k_safety_ms);
    REQUIRE_FALSE(third);
    CHECK(contains(third.error().message, "another daemon"));

    (*second)->resume(acked);
    (*second)->input("go\n");
    Seen b;
    pump(**second, b, [](const Seen& s) { return s.exit.has_value(); });
    CHECK(b.first_offset == acked);
    CHECK(b.output.rfind("two;", 0) == 0);  // resent from exactly the acknowledged byte
    CHECK(contains(b.output, "three;"));
    CHECK(b.exit->code == 0);
    (*second)->collect();
    pump(**second, b, [](const Seen& s) { return s.closed; });
}

TEST_CASE("holder: a resume outside what the holder keeps is refused") {
    test::TempDir dir;
    KillOnExit guard;
    auto link = start_ok(start_request(dir, {"sh", "-c", "printf abc; sleep 30"}), guard);
    link->resume(0);
    Seen seen;
    pump(*link, seen, [](const Seen& s) { return contains(s.output, "abc"); });
    link->ack(3);
    REQUIRE(link->write());
    link.reset();
    auto again = HolderLink::connect(dir.file("7.sock"), k_safety_ms);
    REQUIRE(again);
    (*again)->resume(1);  // the log lost bytes the holder was told were durable
    REQUIRE((*again)->write());
    bool refused = false;
    for (int i = 0; i < 100 && !refused; ++i) {
        pollfd p{(*again)->fd(), POLLIN, 0};
        REQUIRE(poll(&p, 1, k_safety_ms) > 0);
        bool open = (*again)->read(1 << 16);
        std::string error;
        while (auto f = (*again)->next(&error))
            if (f->type == HolderMsg::Refused) {
                refused = true;
                CHECK(contains(f->payload, "resume at 1"));
            }
        if (!open) break;
    }
    CHECK(refused);
    auto ended = end_holder(dir.file("7.sock"), 2000);  // what `tether doctor --end` does
    CHECK_MESSAGE(ended, (ended ? "" : ended.error().message));
    CHECK_FALSE(std::filesystem::exists(dir.file("7.sock")));
}

TEST_CASE("holder: with nobody reading, output stops at the window and the program waits, and nothing is lost") {
    test::TempDir dir;
    KillOnExit guard;
    const size_t window = 4096;
    // 64 KiB in numbered lines: far more than the window and a PTY buffer.
    auto link = start_ok(start_request(dir, {"sh", "-c", "i=0; while [ $i -lt 4000 ]; do printf 'line %05d\\n' $i; i=$((i+1)); done"}, window), guard);
    link.reset();  // no daemon: the holder fills its window, then leaves the program blocked
    std::optional<HolderHello> hello;
    for (int i = 0; i < 500; ++i) {
        auto l = HolderLink::connect(dir.file("7.sock"), k_safety_ms);
        REQUIRE(l);
        hello = (*l)->hello();
        if (hello->produced == window) break;
        usleep(10000);
    }
    REQUIRE(hello);
    CHECK(hello->produced == window);
    CHECK_FALSE(hello->exited);
    auto l = HolderLink::connect(dir.file("7.sock"), k_safety_ms);
    REQUIRE(l);
    (*l)->resume(0);
    Seen seen;
    pump(**l, seen, [](const Seen& s) { return s.exit.has_value(); });
    std::string want;
    char line[32];
    for (int i = 0; i < 4000; ++i) {
        std::snprintf(line, sizeof line, "line %05d\r\n", i);
        want += line;
    }
    CHECK(seen.output == want);
    (*l)->collect();
    pump(**l, seen, [](const Seen& s) { return s.closed; });
}

TEST_CASE("holder: rebound into another log, it moves its socket and restarts offsets at the first unconfirmed byte") {
    test::TempDir dir;
    KillOnExit guard;
    auto link = start_ok(start_request(dir, {"sh", "-c", "printf 'old;'; read x; printf 'new;'; read y"}), guard);
    CHECK(link->hello().argv == std::vector<std::string>{"sh", "-c", "printf 'old;'; read x; printf 'new;'; read y"});
    link->resume(0);
    Seen a;
    pump(*link, a, [](const Seen& s) { return contains(s.output, "old;"); });  // acked as it came
    link->input("x\n");
    pump(*link, a, [](const Seen& s) { return contains(s.output, "new;"); }, /*ack=*/false);
    uint64_t confirmed = a.output.find("x");  // the echo and "new;" were never confirmed
    link->ack(confirmed);
    REQUIRE(link->write());
    link.reset();

    auto again = HolderLink::connect(dir.file("7.sock"), k_safety_ms);
    REQUIRE(again);
    (*again)->rebind(12, dir.path().string(), dir.file("12.sock"));
    CHECK((*again)->hello().session == 12);
    CHECK((*again)->hello().acked == 0);
    (*again)->resume(0);
    (*again)->input("y\n");
    Seen b;
    pump(**again, b, [](const Seen& s) { return s.exit.has_value(); });
    CHECK(b.first_offset == 0);
    CHECK(b.output.rfind("x", 0) == 0);  // from the first byte no daemon confirmed
    CHECK(contains(b.output, "new;"));
    CHECK(std::filesystem::exists(dir.file("12.sock")));
    CHECK_FALSE(std::filesystem::exists(dir.file("7.sock")));
    (*again)->collect();
    pump(**again, b, [](const Seen& s) { return s.closed; });
}

TEST_CASE("holder protocol: fields survive newlines, backslashes and '=' in values") {
    HolderFields f;
    f.add("arg", "a\nb\\c=d").add("arg", "").add("env", "X=1");
    auto g = HolderFields::decode(f.encode());
    CHECK(g.get_all("arg") == std::vector<std::string>{"a\nb\\c=d", ""});
    CHECK(g.get("env") == "X=1");
    CHECK(g.get_int("missing", 42) == 42);
}

}  // namespace
}  // namespace tether
