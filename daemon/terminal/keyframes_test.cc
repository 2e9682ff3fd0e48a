#include "terminal/keyframes.h"

#include <doctest/doctest.h>

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
