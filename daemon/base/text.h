// Small text helpers said once: joining lists, membership, cutting UTF-8, ~ expansion.
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

// A leading ~ is $HOME.
inline std::string home_expanded(const std::string& p) {
    if (p == "~" || p.rfind("~/", 0) == 0) {
        const char* home = std::getenv("HOME");
        if (home && *home) return home + p.substr(1);
    }
    return p;
}

}  // namespace tether
