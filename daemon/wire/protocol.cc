// Frame encoding and scanning, hello checks.
#include "wire/protocol.h"

#include "base/json_text.h"

namespace tether {

std::string encode_frame(FrameType type, std::string_view body) {
    std::string out;
    out.reserve(k_frame_header + body.size());
    auto n = static_cast<uint32_t>(body.size());
    out.push_back(static_cast<char>(n >> 24));
    out.push_back(static_cast<char>(n >> 16));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n));
    out.push_back(static_cast<char>(type));
    out.append(body);
    return out;
}

std::string dump_json(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string encode_json_frame(const nlohmann::json& j) { return encode_frame(FrameType::Json, dump_json(j)); }

FrameScan scan_frame(const uint8_t* data, size_t len) {
    FrameScan scan;
    if (len < k_frame_header) return scan;
    uint32_t n = (uint32_t(data[0]) << 24) | (uint32_t(data[1]) << 16) | (uint32_t(data[2]) << 8) | data[3];
    uint8_t type = data[4];
    if (type != static_cast<uint8_t>(FrameType::Json) && type != static_cast<uint8_t>(FrameType::Bytes)) {
        scan.kind = FrameScan::Invalid;
        scan.error = "protocol error: unknown frame type " + std::to_string(type) +
                     " (is this a tether client?)";
        return scan;
    }
    if (n > k_max_frame_body) {
        scan.kind = FrameScan::Invalid;
        scan.error = "protocol error: frame of " + std::to_string(n) + " bytes exceeds the limit of " +
                     std::to_string(k_max_frame_body) + " bytes";
        return scan;
    }
    if (len < k_frame_header + n) return scan;
    scan.kind = FrameScan::Complete;
    scan.frame_size = k_frame_header + n;
    return scan;
}

Frame decode_frame(const uint8_t* data, size_t frame_size) {
    Frame f;
    f.type = static_cast<FrameType>(data[4]);
    f.body.assign(reinterpret_cast<const char*>(data) + k_frame_header, frame_size - k_frame_header);
    return f;
}

Result<nlohmann::json> parse_json_object(std::string_view body) {
    if (!json_nesting_within(body))
        return Error{"protocol error: frame body nests deeper than " + std::to_string(k_max_json_depth) + " levels"};
    auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Error{"protocol error: frame body is not valid JSON"};
    if (!j.is_object()) return Error{"protocol error: frame body is not a JSON object"};
    return j;
}

nlohmann::json make_hello(std::string_view who) {
    return {{"hello", "tether"}, {"protocol", k_protocol_version}, {"version", TETHER_VERSION},
            {"who", std::string(who)}};
}

Status check_hello(const nlohmann::json& hello, std::string_view peer_kind) {
    if (hello.value("hello", "") != "tether" || !hello.contains("protocol") || !hello["protocol"].is_number_integer())
        return Error{"protocol error: expected a tether hello from the " + std::string(peer_kind)};
    int theirs = hello["protocol"].get<int>();
    if (theirs != k_protocol_version)
        return Error{"incompatible " + std::string(peer_kind) + ": it speaks protocol version " +
                     std::to_string(theirs) + " (tether " + hello.value("version", "?") +
                     "), this side speaks version " + std::to_string(k_protocol_version) +
                     " (tether " TETHER_VERSION "); run the same version of tether and tetherd"};
    return {};
}

}  // namespace tether
