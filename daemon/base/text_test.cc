#include "base/text.h"

#include <doctest/doctest.h>

using namespace tether;

TEST_CASE("secrets are scrubbed from text wherever and however often they occur") {
    CHECK(scrubbed("HTTP 500: you sent tok-123 and tok-123 again", {"tok-123", "other-secret"}) ==
          "HTTP 500: you sent <secret> and <secret> again");
    CHECK(scrubbed("short ab stays", {"ab"}) == "short ab stays");  // too short to tell from text
    CHECK(scrubbed("nothing here", {}) == "nothing here");
}

TEST_CASE("a URL's path and a bearer token's word are secrets too, common words are not") {
    auto f = secret_fragments("https://hooks.slack.com/services/T000/B000/XXXX1234567890abc");
    CHECK(std::find(f.begin(), f.end(), "/services/T000/B000/XXXX1234567890abc") != f.end());
    CHECK(std::find(f.begin(), f.end(), "XXXX1234567890abc") != f.end());
    CHECK(std::find(f.begin(), f.end(), "services") == f.end());
    auto b = secret_fragments("Bearer tok-2a3b4c5d6e");
    CHECK(std::find(b.begin(), b.end(), "tok-2a3b4c5d6e") != b.end());
    CHECK(std::find(b.begin(), b.end(), "Bearer") == b.end());
    CHECK(scrubbed("server said: bad path /hook/urltok-3d4e5f", secret_fragments("http://h:1/hook/urltok-3d4e5f")) ==
          "server said: bad path <secret>");
}
