// tether-notifier-desktop: freedesktop desktop notifications. One notification per
// session on screen (a newer one replaces it), urgency by kind, and, where the server
// offers buttons, Approve / Deny for a permission request and Open for any session,
// answered through the host's decide (ABI 1.1) and a detached terminal command.
// Presentation lives in notification_text, D-Bus in notifications_client, Open in
// open_command; this file holds the options and the per-session bookkeeping.
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "notification_text.h"
#include "notifications_client.h"
#include "notifier_sdk.hpp"
#include "open_command.h"

namespace desktop {
namespace {

constexpr const char* k_default_open = "x-terminal-emulator -e {tether} attach {session}";

// Action keys carry what they act on, so a click answers exactly the request that
// notification showed even if a newer one has replaced it meanwhile.
constexpr std::string_view k_approve = "approve:", k_deny = "deny:", k_open = "open:";

OpenCommand open_command_from(const notifier_sdk::Options& o) {
    try {
        return OpenCommand(o.get("open_command", k_default_open));
    } catch (const std::invalid_argument& e) {
        throw notifier_sdk::BadOptions(e.what());
    }
}

class DesktopNotifier {
public:
    DesktopNotifier(notifier_sdk::Host host, const notifier_sdk::Options& o)
        : m_host(host),
          m_app_name(o.get("app_name", "tether")),
          m_app_icon(o.get("app_icon", "utilities-terminal")),
          m_desktop_entry(o.get("desktop_entry", "tether")),
          m_expire_timeout_ms(static_cast<int32_t>(o.integer("expire_timeout_ms", -1, -1, 24LL * 3600 * 1000))),
          m_actions(o.boolean("actions", true)),
          m_deny_message(o.get("deny_message", "Denied from a desktop notification.")),
          m_open(open_command_from(o)) {
        o.reject_unknown({"app_name", "app_icon", "desktop_entry", "expire_timeout_ms", "actions", "open_command",
                          "deny_message", "bus_address", "call_timeout_ms"});
        std::string address = o.get("bus_address", "");
        if (std::string why; !address.empty() && !NotificationsClient::supported_address(address, &why))
            throw notifier_sdk::BadOptions("bus_address: " + why);
        int timeout = static_cast<int>(o.integer("call_timeout_ms", 5000, 100, 60000));
        // Said once at start: a daemon on a machine without a desktop keeps running, and
        // each send retries (with the outbox's backoff) in case a session bus appears.
        std::string why;
        if (address.empty() && NotificationsClient::session_bus_address(&why).empty())
            report_unavailable("no_session_bus", why);
        m_client = std::make_unique<NotificationsClient>(
            address, timeout,
            NotificationsClient::Listener{[this](uint32_t id, const std::string& key) { on_action(id, key); },
                                          [this](uint32_t id, uint32_t reason) { on_closed(id, reason); }});
    }

    void send(const notifier_sdk::Message& m) {
        MessageText text{m.session_id(), m.session_name(), m.kind(), m.title(), m.body(), m.tool(),
                         m.tool_input_json(), m.message()};
        std::string session(m.session_id());
        Capabilities caps;
        try {
            caps = m_client->capabilities();
        } catch (const Unavailable& e) {
            report_unavailable(e.code, e.what());
            throw notifier_sdk::Retry(e.what());
        }

        Notification n;
        n.app_name = m_app_name;
        n.app_icon = m_app_icon;
        n.summary = summary_for(text);
        n.body = body_for(text, caps.body_markup);
        n.urgency = urgency_for(m.kind());
        if (auto u = m.rule_options().optional("urgency")) {
            if (auto parsed = parse_urgency(*u)) n.urgency = *parsed;
            else m_host.warn("rule option urgency: \"" + *u + "\" is not low, normal or critical; using the kind's");
        }
        n.desktop_entry = m_desktop_entry;
        n.category = category_for(m.kind());
        n.expire_timeout_ms = m_expire_timeout_ms;
        if (m_actions && caps.actions) {
            if (m.kind() == "permission" && m.permission_request() > 0 && m_host.can_decide()) {
                std::string request = std::to_string(m.permission_request());
                n.actions.emplace_back(std::string(k_approve) + request, "Approve");
                n.actions.emplace_back(std::string(k_deny) + request, "Deny");
            }
            if (m_open.enabled() && !session.empty()) n.actions.emplace_back(std::string(k_open) + session, "Open");
        }

        // One send at a time per session, so "newer replaces older" holds; the map lock is
        // never held across a D-Bus call (the listener thread takes it).
        std::shared_ptr<std::mutex> turn;
        {
            std::lock_guard lock(m_mutex);
            auto& s = m_sessions[session];
            if (!s.turn) s.turn = std::make_shared<std::mutex>();
            turn = s.turn;
            s.open = {std::string(m.session_name()), session, std::string(m.cwd())};
        }
        std::lock_guard in_turn(*turn);
        {
            std::lock_guard lock(m_mutex);
            auto& s = m_sessions[session];
            // A retry of an older notification must not cover a newer one.
            if (m.time_ms() < s.shown_time_ms) {
                m_host.log(NOTIFIER_LOG_DEBUG,
                           "not showing an older notification over a newer one for session " + session);
                return;
            }
            n.replaces_id = s.shown_id;
        }
        uint32_t id = 0;
        try {
            id = m_client->notify(n);
        } catch (const Unavailable& e) {
            report_unavailable(e.code, e.what());
            throw notifier_sdk::Retry(e.what());
        }
        {
            std::lock_guard lock(m_mutex);
            auto& s = m_sessions[session];
            s.shown_id = id;
            s.shown_time_ms = m.time_ms();
        }
        if (m_unavailable.exchange(false)) m_host.info("desktop notifications work again");
    }

private:
    struct Session {
        std::shared_ptr<std::mutex> turn;  // held for the length of one send
        uint32_t shown_id = 0;             // its notification on screen, 0 for none
        int64_t shown_time_ms = 0;
        OpenPlaceholders open;
    };

    // Once per outage: the host records it as an event; each send still retries.
    void report_unavailable(const std::string& code, const std::string& text) {
        if (!m_unavailable.exchange(true)) m_host.event(code, text);
    }

    // Listener thread. Only buttons of notifications this instance shows are honoured.
    void on_action(uint32_t id, const std::string& key) {
        bool ours = false;
        std::string session;
        {
            std::lock_guard lock(m_mutex);
            for (const auto& [sid, s] : m_sessions)
                if (id != 0 && s.shown_id == id) ours = true, session = sid;
        }
        if (!ours) {
            m_host.log(NOTIFIER_LOG_DEBUG,
                       "action " + key + " on notification " + std::to_string(id) + ": not one of ours");
            return;
        }
        std::string_view k(key);
        bool approve = k.substr(0, k_approve.size()) == k_approve;
        if (approve || k.substr(0, k_deny.size()) == k_deny) {
            std::string number(k.substr(approve ? k_approve.size() : k_deny.size()));
            char* end = nullptr;
            errno = 0;
            long long request = std::strtoll(number.c_str(), &end, 10);
            if (number.empty() || *end || errno || request <= 0) {
                m_host.warn("action " + key + ": not a request number");
                return;
            }
            m_host.info(std::string(approve ? "Approve" : "Deny") + " clicked for request " + number + " of session " +
                        session);
            if (!m_host.decide(request, approve, approve ? "" : m_deny_message))
                m_host.warn("the host did not take the decision on request " + number);
        } else if (k.substr(0, k_open.size()) == k_open && m_open.enabled()) {
            std::string sid(k.substr(k_open.size()));
            OpenPlaceholders open;
            {
                std::lock_guard lock(m_mutex);
                auto it = m_sessions.find(sid);
                if (it == m_sessions.end()) return m_host.warn("Open: unknown session " + sid);
                open = it->second.open;
            }
            try {
                spawn_detached(m_open.argv_for(open));
                m_host.info("Open clicked: started the open command for session " + open.session);
            } catch (const std::exception& e) {
                m_host.warn(e.what());
            }
        }
    }

    // Listener thread. The next notification for that session pops up anew instead of
    // replacing one the user has already dismissed.
    void on_closed(uint32_t id, uint32_t reason) {
        bool ours = false;
        {
            std::lock_guard lock(m_mutex);
            for (auto& [sid, s] : m_sessions)
                if (id != 0 && s.shown_id == id) s.shown_id = 0, ours = true;
        }
        if (ours)
            m_host.log(NOTIFIER_LOG_DEBUG,
                       "notification " + std::to_string(id) + " closed (reason " + std::to_string(reason) + ")");
    }

    notifier_sdk::Host m_host;
    std::string m_app_name, m_app_icon, m_desktop_entry;
    int32_t m_expire_timeout_ms;
    bool m_actions;
    std::string m_deny_message;
    OpenCommand m_open;
    std::atomic<bool> m_unavailable{false};
    std::mutex m_mutex;  // guards m_sessions; never held across a D-Bus call
    std::map<std::string, Session> m_sessions;  // by session id
    // Last: destroyed first, so its listener thread has stopped before the state above goes.
    std::unique_ptr<NotificationsClient> m_client;
};

}  // namespace
}  // namespace desktop

NOTIFIER_PLUGIN(desktop::DesktopNotifier, "desktop",
                "freedesktop desktop notifications over D-Bus, with Approve/Deny/Open buttons")
