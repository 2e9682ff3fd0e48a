// Timeline lines and command-line moments.
#include "timeline_text.h"

#include <time.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace tether {

std::string format_offset(int64_t us) {
    if (us < 0) us = 0;
    int64_t ms = us / 1000;
    int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
    char buf[64];
    if (h > 0) std::snprintf(buf, sizeof buf, "%lldh%02lldm%02lld.%03llds", (long long)h, (long long)m, (long long)s, (long long)frac);
    else if (m > 0) std::snprintf(buf, sizeof buf, "%lldm%02lld.%03llds", (long long)m, (long long)s, (long long)frac);
    else std::snprintf(buf, sizeof buf, "%lld.%03llds", (long long)s, (long long)frac);
    return buf;
}

std::string timeline_line(const nlohmann::json& entry, int64_t start_us) {
    int64_t t = entry.value("time_us", int64_t{0});
    time_t secs = static_cast<time_t>(t / 1000000);
    tm local{};
    localtime_r(&secs, &local);
    char clock[32];
    std::strftime(clock, sizeof clock, "%Y-%m-%d %H:%M:%S", &local);
    char line[96];
    std::snprintf(line, sizeof line, "%s.%03lld  +%-12s #%-8lld %-20s ", clock, static_cast<long long>(t / 1000 % 1000),
                  format_offset(t - start_us).c_str(), static_cast<long long>(entry.value("seq", int64_t{0})),
                  entry.value("kind", "").c_str());
    return line + entry.value("summary", "");
}

namespace {

std::optional<int64_t> parse_offset(std::string t) {
    if (!t.empty() && t[0] == '+') t.erase(0, 1);
    if (t.empty()) return std::nullopt;
    double total = 0;
    size_t i = 0;
    bool any = false;
    while (i < t.size()) {
        size_t start = i;
        while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
        if (i == start) return std::nullopt;
        double v = std::strtod(t.substr(start, i - start).c_str(), nullptr);
        char unit = i < t.size() ? t[i++] : 's';
        if (unit == 'h') total += v * 3600;
        else if (unit == 'm') total += v * 60;
        else if (unit == 's') total += v;
        else return std::nullopt;
        any = true;
    }
    if (!any || !std::isfinite(total)) return std::nullopt;
    return static_cast<int64_t>(std::llround(total * 1e6));
}

}  // namespace

std::optional<Moment> parse_moment(const std::string& text) {
    if (auto off = parse_offset(text)) return Moment{true, *off};
    tm parts{};
    int year, month, day, hour, minute;
    double second = 0;
    char sep = 0;
    int used = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%lf%n", &year, &month, &day, &sep, &hour, &minute, &second, &used) < 7 ||
        (sep != 'T' && sep != ' '))
        return std::nullopt;
    std::string rest = text.substr(static_cast<size_t>(used));
    if (!rest.empty() && rest != "Z") return std::nullopt;
    parts.tm_year = year - 1900;
    parts.tm_mon = month - 1;
    parts.tm_mday = day;
    parts.tm_hour = hour;
    parts.tm_min = minute;
    parts.tm_sec = 0;
    parts.tm_isdst = -1;
    time_t secs = rest == "Z" ? timegm(&parts) : mktime(&parts);
    if (secs == -1) return std::nullopt;
    return Moment{false, static_cast<int64_t>(secs) * 1000000 + static_cast<int64_t>(std::llround(second * 1e6))};
}

}  // namespace tether
