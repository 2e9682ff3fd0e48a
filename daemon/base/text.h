// Small text helpers said once: joining lists, membership, cutting UTF-8, scrubbing secrets, ~ expansion.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

namespace tether {

inline std::string join(const std::vector<std::string>& v, const std::string& sep = ", ") {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
    return s;
}

// "\"a\", \"b\""
inline std::string quoted_list(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "\"" : ", \"") + x + "\"";
    return s;
}

inline bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

inline bool has_prefix(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// Cuts at n bytes without splitting a UTF-8 sequence.
inline std::string truncated(const std::string& s, size_t n) {
    if (s.size() <= n) return s;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n) + "…";
}

// Every occurrence of each secret (those of 4 bytes or more) replaced by "<secret>":
// for text that comes from code that may have seen one (a plugin's error or log line).
inline std::string scrubbed(std::string text, const std::vector<std::string>& secrets) {
    for (const auto& s : secrets) {
        if (s.size() < 4) continue;
        for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at + 8)) text.replace(at, s.size(), "<secret>");
    }
    return text;
}

// What of a secret may show up alone in text: the whole value, and for a URL the part
// after the host and each long path segment, for "Bearer TOKEN" each long word (long:
// 10 bytes or more with a digit, so that "services" or "Bearer" never count).
inline std::vector<std::string> secret_fragments(const std::string& value) {
    std::vector<std::string> out{value};
    auto long_enough = [](const std::string& s) {
        return s.size() >= 10 && std::any_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    auto pieces = [&](const std::string& s, const char* seps) {
        size_t start = 0;
        while (start <= s.size()) {
            size_t end = s.find_first_of(seps, start);
            if (end == std::string::npos) end = s.size();
            std::string piece = s.substr(start, end - start);
            if (long_enough(piece) && piece != value) out.push_back(piece);
            start = end + 1;
        }
    };
    if (size_t scheme = value.find("://"); scheme != std::string::npos) {
        size_t path = value.find('/', scheme + 3);
        if (path != std::string::npos && path + 1 < value.size()) {
            out.push_back(value.substr(path));
            pieces(value.substr(path), "/?&=#");
        }
    }
    pieces(value, " \t");
    return out;
}

// A leading ~ is $HOME.
inline std::string home_expanded(const std::string& p) {
    if (p == "~" || p.rfind("~/", 0) == 0) {
        const char* home = std::getenv("HOME");
        if (home && *home) return home + p.substr(1);
    }
    return p;
}

}  // namespace tether
