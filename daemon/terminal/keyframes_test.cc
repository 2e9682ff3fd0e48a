#include "terminal/keyframes.h"

#include <doctest/doctest.h>

#include "base/sqlite.h"
#include "support.h"

using namespace tether;
using tether::test::TempDir;

namespace {

Keyframe frame(int64_t session, int64_t seq, std::string text, std::string state = "x") {
    return Keyframe{.session = session, .seq = seq, .time_us = seq * 1000, .cols = 80, .rows = 24,
                    .state = std::move(state), .text = std::move(text)};
}

}  // namespace

TEST_CASE("grep finds the lines that hold a phrase, on screen or scrolled off, newest first") {
    TempDir dir;
    auto store = KeyframeStore::open(dir.file("keyframes.db"));
    REQUIRE(store);
    REQUIRE((*store)->put({frame(1, 10, "old line\nbuild FAILED here\n\fprompt $"),
                           frame(1, 20, "\fthe Build failed again\nprompt $"),
                           frame(2, 15, "\fall good")}));
    auto hits = (*store)->search("build failed", std::nullopt, 10);
    REQUIRE(hits);
    REQUIRE(hits->size() == 2);
    CHECK((*hits)[0].seq == 20);
    CHECK((*hits)[0].line == "the Build failed again");
    CHECK((*hits)[0].on_screen);
    CHECK((*hits)[1].seq == 10);
    CHECK((*hits)[1].line == "build FAILED here");
    CHECK_FALSE((*hits)[1].on_screen);
    auto only2 = (*store)->search("build failed", 2, 10);
    REQUIRE(only2);
    CHECK(only2->empty());
    auto odd = (*store)->search("\"a\" OR b*", std::nullopt, 10);  // query syntax stays text
    REQUIRE(odd);
    CHECK(odd->empty());
}

TEST_CASE("a keyframe stored twice keeps one text row; a text-only moment is never restored from") {
    TempDir dir;
    auto store = KeyframeStore::open(dir.file("keyframes.db"));
    REQUIRE(store);
    REQUIRE((*store)->put({frame(1, 10, "\fneedle")}));
    REQUIRE((*store)->put({frame(1, 10, "\fneedle"), frame(1, 30, "\fneedle at the end", "")}));
    auto hits = (*store)->search("needle", std::nullopt, 10);
    REQUIRE(hits);
    CHECK(hits->size() == 2);
    auto latest = (*store)->latest(1, 100);
    REQUIRE(latest);
    REQUIRE(*latest);
    CHECK((*latest)->seq == 10);
    REQUIRE((*store)->remove_session(1));
    hits = (*store)->search("needle", std::nullopt, 10);
    REQUIRE(hits);
    CHECK(hits->empty());
}

TEST_CASE("a version 1 keyframes.db is upgraded: its states read back, new ones are stored compressed") {
    TempDir dir;
    std::string path = dir.file("keyframes.db");
    Screen screen(40, 5);
    screen.feed("\x1b[31mold\x1b[0m state\r\n");
    std::string old_state = *screen.snapshot(10);
    {
        auto db = SqliteDb::open(path, SqliteDb::Mode::ReadWrite);
        REQUIRE(db);
        REQUIRE(db->exec("CREATE TABLE keyframes(session INTEGER NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL, "
                         "cols INTEGER NOT NULL, rows INTEGER NOT NULL, state BLOB NOT NULL, PRIMARY KEY(session, seq)) STRICT;"
                         "CREATE VIRTUAL TABLE screen_text USING fts5(text, session UNINDEXED, seq UNINDEXED, time UNINDEXED);"
                         "PRAGMA user_version = 1;"));
        auto ins = db->prepare("INSERT INTO keyframes VALUES(7, 3, 30, 40, 5, ?1)");
        REQUIRE(ins);
        ins->bind_blob(1, old_state);
        REQUIRE(ins->run());
    }
    auto store = KeyframeStore::open(path);
    REQUIRE(store);
    auto old = (*store)->latest(7, 3);
    REQUIRE(old);
    REQUIRE(*old);
    CHECK((*old)->state == old_state);
    for (int i = 0; i < 40; ++i) screen.feed("\x1b[32mnew line " + std::to_string(i) + "\x1b[0m\r\n");
    std::string new_state = *screen.snapshot(200);
    REQUIRE((*store)->put({Keyframe{.session = 7, .seq = 9, .time_us = 90, .cols = 40, .rows = 5, .state = new_state,
                                    .text = "new line"}}));
    auto latest = (*store)->latest(7, 100);
    REQUIRE(latest);
    REQUIRE(*latest);
    CHECK((*latest)->seq == 9);
    CHECK((*latest)->state == new_state);
    auto db = SqliteDb::open(path, SqliteDb::Mode::ReadOnly);
    REQUIRE(db);
    auto codec = db->query_int("SELECT codec FROM keyframes WHERE seq = 9");
    REQUIRE(codec);
    CHECK(*codec == 1);
    auto stored = db->query_int("SELECT length(state) FROM keyframes WHERE seq = 9");
    REQUIRE(stored);
    CHECK(*stored < static_cast<int64_t>(new_state.size()));
}
