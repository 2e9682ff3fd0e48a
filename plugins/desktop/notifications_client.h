// A client of the freedesktop notification service (org.freedesktop.Notifications,
// Desktop Notifications Specification 1.2) over GDBus. It owns a private bus connection,
// opened on first use and again after the bus went away, and a listener thread running
// its own GLib main context that receives ActionInvoked and NotificationClosed for the
// client's whole life. Why GDBus and not sdbus-c++ 1.2: sdbus-c++'s own event-loop thread
// throws out of std::thread when the bus disconnects, which aborts the whole daemon;
// GDBus reports a closed connection as an error and is thread-safe, so sends may call in
// from any worker thread while the listener thread dispatches signals.
#pragma once

#include <glib.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "notification_text.h"

typedef struct _GDBusConnection GDBusConnection;

namespace desktop {

// A transient failure, worth retrying: no session bus, no notification server, the bus
// went away, a call timed out. code names the condition for the host's event.
struct Unavailable : std::runtime_error {
    Unavailable(std::string code_, const std::string& what) : std::runtime_error(what), code(std::move(code_)) {}
    std::string code;  // "no_session_bus", "no_notification_server", "bus_error"
};

struct Capabilities {
    bool actions = false;      // buttons
    bool body_markup = false;  // <b>, <i>, ... in the body
};

// One Notify call. Strings need not be valid UTF-8: invalid bytes are replaced.
struct Notification {
    std::string app_name, app_icon, summary, body;
    uint32_t replaces_id = 0;
    std::vector<std::pair<std::string, std::string>> actions;  // (key, label)
    Urgency urgency = Urgency::normal;
    std::string desktop_entry, category;  // hints; "" leaves them out
    int32_t expire_timeout_ms = -1;       // -1: the server's default, 0: never
};

class NotificationsClient {
public:
    // Called on the listener thread; must not throw.
    struct Listener {
        std::function<void(uint32_t id, const std::string& action_key)> action_invoked;
        std::function<void(uint32_t id, uint32_t reason)> closed;
    };

    // address: a D-Bus address; "" means the session bus the environment names (see
    // session_bus_address). Starts the listener thread; connects on first use.
    NotificationsClient(std::string address, int call_timeout_ms, Listener listener);
    // Unsubscribes, closes the connection, stops and joins the listener thread. No
    // listener callback runs after it returns.
    ~NotificationsClient();
    NotificationsClient(const NotificationsClient&) = delete;
    NotificationsClient& operator=(const NotificationsClient&) = delete;

    // Both throw Unavailable (transient) or std::runtime_error (the server refused the
    // call: permanent). Any thread.
    Capabilities capabilities();
    uint32_t notify(const Notification& n);  // the notification's id

    // DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus when that socket exists, else ""
    // with the reason in *why. No I/O beyond a stat, and no autolaunch.
    static std::string session_bus_address(std::string* why);
    // Whether address is a D-Bus address GDBus can connect to; else the reason in *why.
    static bool supported_address(const std::string& address, std::string* why);

private:
    GDBusConnection* connection();  // a new reference to a live connection, or throws
    [[noreturn]] void fail(GError* error, const std::string& what);
    void run_on_listener(std::function<void()> fn);
    static void on_signal(GDBusConnection*, const char* sender, const char* path, const char* iface,
                          const char* signal, GVariant* params, gpointer self);

    std::string m_address;
    int m_call_timeout_ms;
    Listener m_listener;
    GMainContext* m_context = nullptr;  // the listener thread's; signals are dispatched here
    GMainLoop* m_loop = nullptr;
    std::thread m_thread;
    std::mutex m_mutex;  // guards the connection and its subscription; held while connecting
    GDBusConnection* m_connection = nullptr;
    unsigned m_subscription = 0;
};

}  // namespace desktop
