// What a click carries and who may make one, the same for every chat notifier: the
// request and session a button answers ("<request>:<session>"), the list of people who
// may answer, a bounded memory of clicks already handled (a replayed click does nothing
// twice), and plugin events that a flood of bad input cannot turn into a flood of events.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "notifier_sdk.hpp"

namespace notifier_chat {

struct ButtonTarget {
    int64_t request = 0;
    std::string session;  // the message's session id
};
// "42:7". Fits Telegram's 64-byte callback_data.
std::string button_value(int64_t request, std::string_view session);
// nullopt unless it is exactly <positive request>:<session digits>.
std::optional<ButtonTarget> parse_button_value(std::string_view value);

// The people allowed to answer: ids from an option such as "U0123ABC,U0456DEF" (the
// daemon passes a YAML list joined with commas).
class AllowList {
public:
    AllowList() = default;
    // valid(id) says whether an id has the channel's shape; what names that shape in the
    // error. Throws BadOptions naming option (an id that is not well formed, none at all).
    AllowList(const std::string& option, std::string_view text, bool (*valid)(std::string_view), const char* what);
    bool allows(std::string_view id) const { return m_ids.count(std::string(id)) > 0; }
    bool empty() const { return m_ids.empty(); }
    size_t size() const { return m_ids.size(); }
    const std::set<std::string>& ids() const { return m_ids; }

private:
    std::set<std::string> m_ids;
};

// Keys seen lately (at most `capacity`, oldest forgotten first). Thread-safe.
class SeenSet {
public:
    explicit SeenSet(size_t capacity = 1024) : m_capacity(capacity) {}
    // True the first time key is offered while remembered.
    bool first_time(const std::string& key);

private:
    size_t m_capacity;
    std::mutex m_mutex;
    std::set<std::string> m_keys;
    std::deque<std::string> m_order;
};

// Plugin events (NotifierReported) at most once per code per window; the rest go to the
// log with how many were held back. Thread-safe.
class EventLimiter {
public:
    explicit EventLimiter(notifier_sdk::Host host, std::chrono::milliseconds window = std::chrono::seconds(60))
        : m_host(host), m_window(window) {}
    void report(const std::string& code, const std::string& text);

private:
    struct Seen {
        std::chrono::steady_clock::time_point last{};
        long held_back = 0;
    };
    notifier_sdk::Host m_host;
    std::chrono::milliseconds m_window;
    std::mutex m_mutex;
    std::map<std::string, Seen> m_codes;
};

}  // namespace notifier_chat
