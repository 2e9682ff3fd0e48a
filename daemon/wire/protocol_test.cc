#include "wire/protocol.h"

#include <doctest/doctest.h>

using namespace tether;

namespace {
const uint8_t* bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }
}  // namespace

TEST_CASE("a frame encodes length, type and body and scans back complete") {
    std::string f = encode_frame(FrameType::Bytes, std::string("a\0b", 3));
    REQUIRE(f.size() == k_frame_header + 3);
    CHECK(f.substr(0, 5) == std::string("\0\0\0\3\2", 5));
    FrameScan scan = scan_frame(bytes(f), f.size());
    REQUIRE(scan.kind == FrameScan::Complete);
    CHECK(scan.frame_size == f.size());
    Frame back = decode_frame(bytes(f), scan.frame_size);
    CHECK(back.type == FrameType::Bytes);
    CHECK(back.body == std::string("a\0b", 3));
}

TEST_CASE("a partial frame asks for more, at every split point") {
    std::string f = encode_json_frame({{"cmd", "ls"}});
    for (size_t n = 0; n < f.size(); ++n) CHECK(scan_frame(bytes(f), n).kind == FrameScan::NeedMore);
    CHECK(scan_frame(bytes(f), f.size()).kind == FrameScan::Complete);
}

TEST_CASE("an unknown frame type or an oversized length is invalid at once") {
    std::string bad_type("\0\0\0\1\x09x", 6);
    FrameScan s1 = scan_frame(bytes(bad_type), bad_type.size());
    CHECK(s1.kind == FrameScan::Invalid);
    CHECK(s1.error.find("unknown frame type 9") != std::string::npos);
    std::string huge("\x7f\xff\xff\xff\x01", 5);
    FrameScan s2 = scan_frame(bytes(huge), huge.size());
    CHECK(s2.kind == FrameScan::Invalid);
    CHECK(s2.error.find("exceeds the limit") != std::string::npos);
}

TEST_CASE("JSON bodies must be objects") {
    CHECK(parse_json_object("{\"a\":1}"));
    CHECK(parse_json_object("[1]").error().message.find("not a JSON object") != std::string::npos);
    CHECK(parse_json_object("{oops").error().message.find("not valid JSON") != std::string::npos);
}

TEST_CASE("a hello with another protocol version is refused naming both versions") {
    CHECK(check_hello(make_hello("t"), "client"));
    auto other = make_hello("t");
    other["protocol"] = k_protocol_version + 1;
    auto s = check_hello(other, "client");
    REQUIRE_FALSE(s);
    CHECK(s.error().message.find("version " + std::to_string(k_protocol_version + 1)) != std::string::npos);
    CHECK(s.error().message.find("version " + std::to_string(k_protocol_version)) != std::string::npos);
    CHECK_FALSE(check_hello({{"protocol", 1}}, "client"));
}

TEST_CASE("dump_json replaces invalid UTF-8 instead of throwing") {
    nlohmann::json j{{"title", std::string("bad \xff byte")}};
    std::string out = dump_json(j);
    CHECK(out.find("bad") != std::string::npos);
}
