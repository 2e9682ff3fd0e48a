// Button values, allow lists, replays and rate-limited events.
#include "clicks.h"

#include <cerrno>
#include <cstdlib>

namespace notifier_chat {

std::string button_value(int64_t request, std::string_view session) {
    return std::to_string(request) + ":" + std::string(session);
}

std::optional<ButtonTarget> parse_button_value(std::string_view value) {
    size_t colon = value.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 19 || value.size() - colon - 1 > 19) return std::nullopt;
    std::string request(value.substr(0, colon)), session(value.substr(colon + 1));
    for (char c : request + session)
        if (c < '0' || c > '9') return std::nullopt;
    if (session.empty()) return std::nullopt;
    errno = 0;
    long long n = std::strtoll(request.c_str(), nullptr, 10);
    if (errno || n <= 0) return std::nullopt;
    return ButtonTarget{n, session};
}

AllowList::AllowList(const std::string& option, std::string_view text, bool (*valid)(std::string_view), const char* what) {
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(',', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view id = text.substr(start, end - start);
        while (!id.empty() && (id.front() == ' ' || id.front() == '\t')) id.remove_prefix(1);
        while (!id.empty() && (id.back() == ' ' || id.back() == '\t')) id.remove_suffix(1);
        if (!id.empty()) {
            if (!valid(id))
                throw notifier_sdk::BadOptions(option + ": \"" + std::string(id) + "\" is not " + what);
            m_ids.insert(std::string(id));
        }
        start = end + 1;
    }
    if (m_ids.empty()) throw notifier_sdk::BadOptions(option + ": name at least one (" + what + ")");
}

bool SeenSet::first_time(const std::string& key) {
    std::lock_guard lock(m_mutex);
    if (!m_keys.insert(key).second) return false;
    m_order.push_back(key);
    while (m_order.size() > m_capacity) {
        m_keys.erase(m_order.front());
        m_order.pop_front();
    }
    return true;
}

void EventLimiter::report(const std::string& code, const std::string& text) {
    long held = 0;
    {
        std::lock_guard lock(m_mutex);
        Seen& s = m_codes[code];
        auto now = std::chrono::steady_clock::now();
        if (s.last != std::chrono::steady_clock::time_point{} && now - s.last < m_window) {
            ++s.held_back;
            m_host.warn(code + ": " + text);
            return;
        }
        held = s.held_back;
        s = {now, 0};
    }
    m_host.event(code, held ? text + " (and " + std::to_string(held) + " more like it before)" : text);
}

}  // namespace notifier_chat
