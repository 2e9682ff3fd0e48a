// Holder protocol framing and fields.
#include "wire/holder_protocol.h"

#include <cstdlib>

namespace tether {

namespace {

void put_u32(std::string& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

uint64_t get_be(std::string_view s, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
    return v;
}

std::string escape(const std::string& value) {
    std::string out;
    for (char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out.push_back(c);
    }
    return out;
}

std::string unescape(std::string_view value) {
    std::string out;
    for (size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) {
            ++i;
            out.push_back(value[i] == 'n' ? '\n' : value[i]);
        } else {
            out.push_back(value[i]);
        }
    }
    return out;
}

}  // namespace

void append_holder_frame(std::string& out, HolderMsg type, std::string_view payload) {
    out.push_back(static_cast<char>(type));
    put_u32(out, static_cast<uint32_t>(payload.size()));
    out.append(payload);
}

std::string holder_offset_payload(uint64_t offset, std::string_view bytes) {
    std::string out;
    out.reserve(8 + bytes.size());
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((offset >> shift) & 0xff));
    out.append(bytes);
    return out;
}

std::optional<uint64_t> holder_payload_offset(std::string_view payload) {
    if (payload.size() < 8) return std::nullopt;
    return get_be(payload, 8);
}

std::optional<HolderFrame> HolderFrameReader::next(std::string* error) {
    std::string_view rest(m_buf.data() + m_pos, m_buf.size() - m_pos);
    if (rest.size() < 5) return std::nullopt;
    uint64_t length = get_be(rest.substr(1), 4);
    if (length > k_holder_max_payload) {
        if (error) *error = "holder frame of " + std::to_string(length) + " bytes exceeds the limit";
        return std::nullopt;
    }
    if (rest.size() < 5 + length) return std::nullopt;
    HolderFrame frame{static_cast<HolderMsg>(rest[0]), std::string(rest.substr(5, length))};
    m_pos += 5 + length;
    // Compact once the consumed prefix dominates, so the buffer stays near one frame.
    if (m_pos > 4096 && m_pos * 2 > m_buf.size()) {
        m_buf.erase(0, m_pos);
        m_pos = 0;
    }
    return frame;
}

HolderFields& HolderFields::add(const std::string& key, const std::string& value) {
    m_fields.emplace_back(key, value);
    return *this;
}

std::string HolderFields::encode() const {
    std::string out;
    for (const auto& [k, v] : m_fields) out += k + "=" + escape(v) + "\n";
    return out;
}

HolderFields HolderFields::decode(std::string_view payload) {
    HolderFields f;
    while (!payload.empty()) {
        size_t end = payload.find('\n');
        std::string_view line = payload.substr(0, end);
        size_t eq = line.find('=');
        if (eq != std::string_view::npos) f.m_fields.emplace_back(std::string(line.substr(0, eq)), unescape(line.substr(eq + 1)));
        if (end == std::string_view::npos) break;
        payload.remove_prefix(end + 1);
    }
    return f;
}

std::string HolderFields::get(const std::string& key, const std::string& fallback) const {
    for (const auto& [k, v] : m_fields)
        if (k == key) return v;
    return fallback;
}

int64_t HolderFields::get_int(const std::string& key, int64_t fallback) const {
    std::string v = get(key);
    if (v.empty()) return fallback;
    char* end = nullptr;
    long long n = std::strtoll(v.c_str(), &end, 10);
    return end && *end == '\0' ? n : fallback;
}

std::vector<std::string> HolderFields::get_all(const std::string& key) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : m_fields)
        if (k == key) out.push_back(v);
    return out;
}

HolderFields HolderHello::fields() const {
    HolderFields f;
    f.add("protocol", protocol).add("version", version).add("session", session).add("agent_pid", agent_pid)
        .add("holder_pid", holder_pid).add("state_dir", state_dir).add("produced", static_cast<int64_t>(produced))
        .add("acked", static_cast<int64_t>(acked)).add("started_us", started_us).add("disconnected_us", disconnected_us)
        .add("cols", cols).add("rows", rows).add("exited", exited).add("signaled", signaled).add("code", code)
        .add("core_dumped", core_dumped).add("cwd", cwd);
    for (const auto& a : argv) f.add("arg", a);
    return f;
}

HolderHello HolderHello::from(const HolderFields& f) {
    HolderHello h;
    h.protocol = static_cast<int>(f.get_int("protocol"));
    h.version = f.get("version");
    h.session = f.get_int("session");
    h.agent_pid = static_cast<int>(f.get_int("agent_pid"));
    h.holder_pid = static_cast<int>(f.get_int("holder_pid"));
    h.state_dir = f.get("state_dir");
    h.produced = static_cast<uint64_t>(f.get_int("produced"));
    h.acked = static_cast<uint64_t>(f.get_int("acked"));
    h.started_us = f.get_int("started_us");
    h.disconnected_us = f.get_int("disconnected_us");
    h.cols = static_cast<int>(f.get_int("cols"));
    h.rows = static_cast<int>(f.get_int("rows"));
    h.exited = f.get_int("exited") != 0;
    h.signaled = f.get_int("signaled") != 0;
    h.code = static_cast<int>(f.get_int("code"));
    h.core_dumped = f.get_int("core_dumped") != 0;
    h.argv = f.get_all("arg");
    h.cwd = f.get("cwd");
    return h;
}

}  // namespace tether
