// What a click in a Slack message does: who clicked (allow_users), which request and
// session the button names, the answer through the host (who, "always", the reason typed
// into the message for a deny), and what the person hears: nothing more when it decided
// (the message is revised through the host's update), an ephemeral reply when it did not
// (a stale click, someone not allowed, a button that names nothing), and Slack's copy of a
// message whose request is gone revised to say so. A worker thread of its own, so Socket
// Mode's never waits on the Web API or the daemon.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "clicks.h"
#include "notifier_sdk.hpp"
#include "slack_api.h"

namespace slack {

class Interactions {
public:
    struct Options {
        std::string bot_token;     // chat.postEphemeral, chat.update
        notifier_chat::AllowList allow;
        std::string deny_message;  // told to the agent with a Deny that has no reason
    };

    // api and events must outlive this.
    Interactions(SlackApi& api, Options options, notifier_sdk::Host host, notifier_chat::EventLimiter& events);
    ~Interactions();
    Interactions(const Interactions&) = delete;
    Interactions& operator=(const Interactions&) = delete;

    // Any thread: queues one interactive payload (block_actions). A full queue (a flood)
    // drops it, with an event.
    void post(nlohmann::json payload);

private:
    void run();
    void handle(const nlohmann::json& payload);
    void answer(const nlohmann::json& payload, const std::string& action, const std::string& user, int64_t request,
                const std::string& session);
    void tell(const nlohmann::json& payload, const std::string& user, const std::string& text);
    void mark_gone(const nlohmann::json& payload, const std::string& reason);

    SlackApi& m_api;
    Options m_options;
    notifier_sdk::Host m_host;
    notifier_chat::EventLimiter& m_events;
    notifier_chat::SeenSet m_clicks{1024};  // a click handled once, however often it arrives

    std::atomic<bool> m_stopping{false};
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<nlohmann::json> m_queue;
    std::thread m_thread;  // last
};

}  // namespace slack
