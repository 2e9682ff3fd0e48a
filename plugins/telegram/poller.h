// Answers from Telegram with nothing exposed to the internet: getUpdates long polling on a
// thread of the plugin's own (outbound only), and what a button press does: which chat and
// person pressed it (only the configured chat and people may answer), which request and
// session it names, the answer through the host, and the reply (answerCallbackQuery; the
// message of a request that is gone is edited to say so, keyboard removed). A decided
// message is edited through the host's update instead. Bad updates, a revoked token, 409
// and 429 are plugin events; polling backs off and goes on.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "clicks.h"
#include "notifier_sdk.hpp"
#include "telegram_api.h"

namespace telegram {

class Poller {
public:
    struct Options {
        int64_t chat_id = 0;
        std::set<int64_t> allow_from;  // user ids who may answer
        std::string deny_message;
        long poll_timeout_s = 25;
        long retry_min_ms = 1000, retry_max_ms = 60000;
    };

    // api and events must outlive this.
    Poller(TelegramApi& api, Options options, notifier_sdk::Host host, notifier_chat::EventLimiter& events);
    ~Poller();
    Poller(const Poller&) = delete;
    Poller& operator=(const Poller&) = delete;

    // The name a person showed when they last pressed a button, "" if unknown. Any thread.
    std::string name_of(const std::string& user_id) const;

private:
    void run();
    bool poll_once(std::chrono::milliseconds& wait);  // false: wait before the next
    void handle_update(const nlohmann::json& update);
    void handle_press(const nlohmann::json& query);
    void reply(const std::string& query_id, const std::string& text, bool alert);
    void mark_gone(const nlohmann::json& message, const std::string& reason);
    bool pause(std::chrono::milliseconds ms);

    TelegramApi& m_api;
    Options m_options;
    notifier_sdk::Host m_host;
    notifier_chat::EventLimiter& m_events;
    notifier_chat::SeenSet m_presses{1024};
    int64_t m_offset = 0;  // the next update_id to ask for; confirms the ones before

    std::atomic<bool> m_stopping{false};
    mutable std::mutex m_mutex;  // guards m_names and the pause
    std::condition_variable m_cv;
    std::map<std::string, std::string> m_names;  // user id -> "Ann (@ann)", bounded
    std::thread m_thread;  // last
};

}  // namespace telegram
