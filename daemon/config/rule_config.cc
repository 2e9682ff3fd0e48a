// The plain parts of the rules configuration: how a window, a notifier and a duration are
// written back for people (describe, redacted options, format_duration), and durations read.
#include "config/rule_config.h"

#include <date/tz.h>

#include <cctype>
#include <cstring>

#include "base/text.h"

namespace tether {

const char* const k_day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::string TimeWindow::describe() const {
    std::string s;
    if (days != 0x7f) {
        std::vector<std::string> names;
        for (int d = 0; d < 7; ++d)
            if (days >> d & 1) names.push_back(k_day_names[d]);
        s = join(names, ",") + " ";
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02d:%02d-%02d:%02d", start_min / 60, start_min % 60, end_min / 60, end_min % 60);
    s += buf;
    std::string name = zone ? std::string(zone->name()) : "UTC";
    return s + " " + (timezone.empty() ? name + " (local)" : timezone);
}

std::vector<std::pair<std::string, std::string>> redacted_options(const Notifier& n) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& o : n.options)
        out.emplace_back(o.key, o.secret ? "<secret from " + o.source + ">" : o.value);
    return out;
}

std::string describe_notifier(const Notifier& n) {
    std::string s = n.name + ": plugin " + n.plugin;
    for (const auto& [k, v] : redacted_options(n)) s += ", " + k + "=" + v;
    return s;
}

std::optional<int64_t> parse_duration_us(const std::string& text) {
    // Largest first; "ms" before "m" so that "m" does not take the start of "ms".
    static const std::pair<const char*, int64_t> units[] = {
        {"d", 86'400'000'000}, {"h", 3'600'000'000}, {"ms", 1'000}, {"m", 60'000'000}, {"s", 1'000'000}};
    static const int size_rank[] = {0, 1, 4, 2, 3};
    int64_t total = 0;
    int last_rank = -1;
    size_t i = 0;
    if (text.empty()) return std::nullopt;
    while (i < text.size()) {
        size_t start = i;
        int64_t n = 0;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && i - start < 9) n = n * 10 + (text[i++] - '0');
        if (i == start) return std::nullopt;
        size_t u = 0;
        while (u < std::size(units) && text.compare(i, std::strlen(units[u].first), units[u].first) != 0) ++u;
        // Each unit once, largest first: "1h30m", not "30m1h".
        if (u == std::size(units) || size_rank[u] <= last_rank) return std::nullopt;
        last_rank = size_rank[u];
        i += std::strlen(units[u].first);
        total += n * units[u].second;
    }
    return total;
}

std::string format_duration(int64_t us) {
    if (us < 0) return "-" + format_duration(-us);
    if (us < 1'000) return std::to_string(us) + "us";
    if (us < 1'000'000) return std::to_string(us / 1'000) + "ms";
    int64_t s = us / 1'000'000;
    std::string out;
    for (auto [unit, size] : {std::pair{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}}) {
        if (s >= size) out += std::to_string(s / size) + unit;
        s %= size;
    }
    return out;
}

}  // namespace tether
