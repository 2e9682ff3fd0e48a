#include "base/mailbox.h"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

using namespace tether;

TEST_CASE("closures posted from other threads run on the loop thread, in the order posted") {
    EventLoop loop;
    Mailbox mailbox(loop, "test mailbox");
    std::vector<int> ran;
    std::vector<std::thread::id> threads;
    std::thread producer([&] {
        for (int i = 0; i < 100; ++i)
            mailbox.post([&, i] {
                ran.push_back(i);
                threads.push_back(std::this_thread::get_id());
                if (i == 99) loop.stop();
            });
    });
    Timer guard(loop, [&] { loop.stop(); });  // a safety stop, not a timing assertion
    guard.arm_ms(10000);
    loop.run();
    producer.join();
    REQUIRE(ran.size() == 100);
    for (int i = 0; i < 100; ++i) CHECK(ran[i] == i);
    for (auto id : threads) CHECK(id == std::this_thread::get_id());
}

TEST_CASE("a closure that throws is logged and the next ones still run") {
    EventLoop loop;
    Mailbox mailbox(loop, "test mailbox");
    bool after = false;
    mailbox.post([] { throw std::runtime_error("boom"); });
    mailbox.post([&] {
        after = true;
        loop.stop();
    });
    loop.run();
    CHECK(after);
}

TEST_CASE("posts through a poster after the mailbox is gone are dropped; queued ones are destroyed unrun") {
    EventLoop loop;
    Mailbox::Poster poster;
    auto token = std::make_shared<int>(1);
    bool ran = false;
    {
        Mailbox mailbox(loop, "test mailbox");
        poster = mailbox.poster();
        mailbox.post([&ran, token] { ran = true; });
    }
    CHECK(token.use_count() == 1);  // the queued closure was destroyed with the mailbox
    poster.post([&ran] { ran = true; });
    loop.run();  // nothing is pending: returns at once
    CHECK_FALSE(ran);
}

TEST_CASE("a closure may destroy the mailbox that runs it") {
    EventLoop loop;
    auto mailbox = std::make_unique<Mailbox>(loop, "test mailbox");
    bool second = false;
    mailbox->post([&] { mailbox.reset(); });
    mailbox->post([&] { second = true; });
    loop.run();
    CHECK(mailbox == nullptr);
    CHECK_FALSE(second);  // dropped with the mailbox, though taken in the same batch
}
