// The control-socket wire format, shared by tetherd and every client; docs/PROTOCOL.md
// describes it for humans. A frame is:
//   uint32 big-endian length of the body | uint8 type | body
// type 1 (Json): one JSON object (control requests, replies and stream notices);
// type 2 (Bytes): raw terminal bytes of the stream the connection is attached to.
// The first frame each way is the hello, carrying k_protocol_version.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace tether {

inline constexpr int k_protocol_version = 1;
inline constexpr size_t k_frame_header = 5;
inline constexpr size_t k_max_frame_body = 1u << 20;

enum class FrameType : uint8_t { Json = 1, Bytes = 2 };

struct Frame {
    FrameType type = FrameType::Json;
    std::string body;
};

std::string encode_frame(FrameType type, std::string_view body);
std::string encode_json_frame(const nlohmann::json& j);

// The outcome of looking at the front of a receive buffer.
struct FrameScan {
    enum Kind { NeedMore, Complete, Invalid } kind = NeedMore;
    size_t frame_size = 0;  // header + body, when Complete
    std::string error;      // when Invalid: what is wrong, for the error reply
};
// Checks the header without copying: the length bound and the type.
FrameScan scan_frame(const uint8_t* data, size_t len);
// Decodes a frame that scan_frame reported Complete.
Frame decode_frame(const uint8_t* data, size_t frame_size);

// Parses a Json frame's body into an object, or says why it is not one.
Result<nlohmann::json> parse_json_object(std::string_view body);

// JSON dump that never throws on invalid UTF-8 (it substitutes U+FFFD).
std::string dump_json(const nlohmann::json& j);

nlohmann::json make_hello(std::string_view who);
// Checks a peer's hello; the error names both versions.
Status check_hello(const nlohmann::json& hello, std::string_view peer_kind);

}  // namespace tether
