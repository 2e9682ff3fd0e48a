// org.freedesktop.Notifications over GDBus: connection, Notify, GetCapabilities, signals.
#include "notifications_client.h"

#include <gio/gio.h>
#include <sys/stat.h>

#include <cstdlib>
#include <future>

namespace desktop {

namespace {

constexpr const char* k_name = "org.freedesktop.Notifications";
constexpr const char* k_path = "/org/freedesktop/Notifications";
constexpr const char* k_iface = "org.freedesktop.Notifications";

// GVariant strings must be UTF-8; a session name taken from a directory need not be.
std::string utf8(const std::string& s) {
    if (g_utf8_validate(s.data(), static_cast<gssize>(s.size()), nullptr)) return s;
    gchar* valid = g_utf8_make_valid(s.data(), static_cast<gssize>(s.size()));
    std::string out(valid);
    g_free(valid);
    return out;
}

gboolean run_function(gpointer fn) {
    (*static_cast<std::function<void()>*>(fn))();
    return G_SOURCE_REMOVE;
}

void delete_function(gpointer fn) { delete static_cast<std::function<void()>*>(fn); }

}  // namespace

std::string NotificationsClient::session_bus_address(std::string* why) {
    if (const char* a = std::getenv("DBUS_SESSION_BUS_ADDRESS"); a && *a) return a;
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    if (runtime && *runtime) {
        std::string path = std::string(runtime) + "/bus";
        struct stat st;
        if (stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
            gchar* escaped = g_dbus_address_escape_value(path.c_str());
            std::string address = std::string("unix:path=") + escaped;
            g_free(escaped);
            return address;
        }
    }
    if (why)
        *why = std::string("no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and ") +
               (runtime && *runtime ? std::string(runtime) + "/bus does not exist" : "neither is XDG_RUNTIME_DIR");
    return "";
}

bool NotificationsClient::supported_address(const std::string& address, std::string* why) {
    GError* error = nullptr;
    if (g_dbus_is_supported_address(address.c_str(), &error)) return true;
    if (why) *why = "\"" + address + "\": " + (error ? error->message : "not a D-Bus address");
    g_clear_error(&error);
    return false;
}

NotificationsClient::NotificationsClient(std::string address, int call_timeout_ms, Listener listener)
    : m_address(std::move(address)), m_call_timeout_ms(call_timeout_ms), m_listener(std::move(listener)) {
    m_context = g_main_context_new();
    m_loop = g_main_loop_new(m_context, FALSE);
    m_thread = std::thread([this] {
        g_main_context_push_thread_default(m_context);
        g_main_loop_run(m_loop);
        g_main_context_pop_thread_default(m_context);
    });
}

NotificationsClient::~NotificationsClient() {
    {
        std::lock_guard lock(m_mutex);
        if (m_connection) {
            GDBusConnection* c = m_connection;
            unsigned sub = m_subscription;
            // On the listener thread, where the subscription's dispatches run: once this
            // returns, no signal callback is pending or running.
            run_on_listener([c, sub] {
                g_dbus_connection_signal_unsubscribe(c, sub);
                g_dbus_connection_close_sync(c, nullptr, nullptr);
            });
            g_object_unref(c);
            m_connection = nullptr;
        }
    }
    // An idle source, not g_main_loop_quit directly: a quit before the thread entered
    // g_main_loop_run would be lost.
    GMainLoop* loop = m_loop;
    auto* quit = new std::function<void()>([loop] { g_main_loop_quit(loop); });
    g_main_context_invoke_full(m_context, G_PRIORITY_DEFAULT, &run_function, quit, &delete_function);
    m_thread.join();
    // Sources the connection left behind (its "closed" notice) hold references: run them.
    while (g_main_context_iteration(m_context, FALSE)) {
    }
    g_main_loop_unref(m_loop);
    g_main_context_unref(m_context);
}

void NotificationsClient::run_on_listener(std::function<void()> fn) {
    std::packaged_task<void()> task(std::move(fn));
    auto done = task.get_future();
    auto* call = new std::function<void()>([&task] { task(); });
    g_main_context_invoke_full(m_context, G_PRIORITY_DEFAULT, &run_function, call, &delete_function);
    done.get();  // rethrows what fn threw
}

GDBusConnection* NotificationsClient::connection() {
    std::lock_guard lock(m_mutex);
    if (m_connection && !g_dbus_connection_is_closed(m_connection)) return G_DBUS_CONNECTION(g_object_ref(m_connection));
    if (m_connection) {
        GDBusConnection* old = m_connection;
        unsigned sub = m_subscription;
        run_on_listener([old, sub] { g_dbus_connection_signal_unsubscribe(old, sub); });
        g_object_unref(old);
        m_connection = nullptr;
    }
    std::string why;
    std::string address = m_address.empty() ? session_bus_address(&why) : m_address;
    if (address.empty()) throw Unavailable("no_session_bus", why);

    // Created and subscribed on the listener thread: the connection's own sources and the
    // signal dispatches belong to the thread-default context of whoever creates them.
    GDBusConnection* c = nullptr;
    std::string error;
    run_on_listener([&] {
        GError* e = nullptr;
        c = g_dbus_connection_new_for_address_sync(
            address.c_str(),
            static_cast<GDBusConnectionFlags>(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                              G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION),
            nullptr, nullptr, &e);
        if (!c) {
            error = e ? e->message : "unknown error";
            g_clear_error(&e);
            return;
        }
        // A private connection: losing the bus must never end the daemon.
        g_dbus_connection_set_exit_on_close(c, FALSE);
        m_subscription = g_dbus_connection_signal_subscribe(c, k_name, k_iface, nullptr, k_path, nullptr,
                                                            G_DBUS_SIGNAL_FLAGS_NONE, &on_signal, this, nullptr);
    });
    if (!c) throw Unavailable("no_session_bus", "cannot connect to the D-Bus session bus at " + address + ": " + error);
    m_connection = c;
    return G_DBUS_CONNECTION(g_object_ref(c));
}

void NotificationsClient::fail(GError* error, const std::string& what) {
    std::string text = error ? error->message : "unknown error";
    if (error && g_dbus_error_is_remote_error(error)) g_dbus_error_strip_remote_error(error), text = error->message;
    auto is = [error](GQuark domain, int code) { return error && g_error_matches(error, domain, code); };
    bool no_server = is(G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) || is(G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER);
    bool timed_out = is(G_IO_ERROR, G_IO_ERROR_TIMED_OUT) || is(G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
                     is(G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT) || is(G_DBUS_ERROR, G_DBUS_ERROR_TIMED_OUT);
    bool refused = is(G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS) || is(G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD) ||
                   is(G_DBUS_ERROR, G_DBUS_ERROR_NOT_SUPPORTED) || is(G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED);
    g_clear_error(&error);
    if (no_server)
        throw Unavailable("no_notification_server",
                          "no notification server on the session bus (nothing owns " + std::string(k_name) + ")");
    if (timed_out)
        throw Unavailable("bus_error", what + " timed out after " + std::to_string(m_call_timeout_ms) + " ms");
    if (refused) throw std::runtime_error(what + " refused by the notification server: " + text);
    // Anything else, a closed connection included (the next call reconnects), is transient.
    throw Unavailable("bus_error", what + " failed: " + text);
}

Capabilities NotificationsClient::capabilities() {
    GDBusConnection* c = connection();
    GError* error = nullptr;
    GVariant* reply = g_dbus_connection_call_sync(c, k_name, k_path, k_iface, "GetCapabilities", nullptr,
                                                  G_VARIANT_TYPE("(as)"), G_DBUS_CALL_FLAGS_NONE, m_call_timeout_ms,
                                                  nullptr, &error);
    g_object_unref(c);
    if (!reply) fail(error, "GetCapabilities");
    Capabilities caps;
    GVariantIter* iter = nullptr;
    const gchar* cap = nullptr;
    g_variant_get(reply, "(as)", &iter);
    while (g_variant_iter_loop(iter, "&s", &cap)) {
        std::string_view s(cap);
        if (s == "actions") caps.actions = true;
        else if (s == "body-markup") caps.body_markup = true;
    }
    g_variant_iter_free(iter);
    g_variant_unref(reply);
    return caps;
}

uint32_t NotificationsClient::notify(const Notification& n) {
    GVariantBuilder actions;
    g_variant_builder_init(&actions, G_VARIANT_TYPE("as"));
    for (const auto& [key, label] : n.actions) {
        g_variant_builder_add(&actions, "s", utf8(key).c_str());
        g_variant_builder_add(&actions, "s", utf8(label).c_str());
    }
    GVariantBuilder hints;
    g_variant_builder_init(&hints, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&hints, "{sv}", "urgency", g_variant_new_byte(static_cast<guchar>(n.urgency)));
    if (!n.desktop_entry.empty())
        g_variant_builder_add(&hints, "{sv}", "desktop-entry", g_variant_new_string(utf8(n.desktop_entry).c_str()));
    if (!n.category.empty())
        g_variant_builder_add(&hints, "{sv}", "category", g_variant_new_string(utf8(n.category).c_str()));
    GVariant* params = g_variant_new("(susssasa{sv}i)", utf8(n.app_name).c_str(), n.replaces_id, utf8(n.app_icon).c_str(),
                                     utf8(n.summary).c_str(), utf8(n.body).c_str(), &actions, &hints,
                                     n.expire_timeout_ms);

    GDBusConnection* c = nullptr;
    try {
        c = connection();
    } catch (...) {
        g_variant_unref(g_variant_ref_sink(params));
        throw;
    }
    GError* error = nullptr;
    GVariant* reply = g_dbus_connection_call_sync(c, k_name, k_path, k_iface, "Notify", params, G_VARIANT_TYPE("(u)"),
                                                  G_DBUS_CALL_FLAGS_NONE, m_call_timeout_ms, nullptr, &error);
    g_object_unref(c);
    if (!reply) fail(error, "Notify");
    guint32 id = 0;
    g_variant_get(reply, "(u)", &id);
    g_variant_unref(reply);
    return id;
}

void NotificationsClient::on_signal(GDBusConnection*, const char*, const char*, const char*, const char* signal,
                                    GVariant* params, gpointer self) {
    auto* client = static_cast<NotificationsClient*>(self);
    std::string_view name(signal ? signal : "");
    try {
        if (name == "ActionInvoked" && g_variant_is_of_type(params, G_VARIANT_TYPE("(us)"))) {
            guint32 id = 0;
            const gchar* key = nullptr;
            g_variant_get(params, "(u&s)", &id, &key);
            if (client->m_listener.action_invoked) client->m_listener.action_invoked(id, key ? key : "");
        } else if (name == "NotificationClosed" && g_variant_is_of_type(params, G_VARIANT_TYPE("(uu)"))) {
            guint32 id = 0, reason = 0;
            g_variant_get(params, "(uu)", &id, &reason);
            if (client->m_listener.closed) client->m_listener.closed(id, reason);
        }
    } catch (...) {
        // Nothing may unwind through GLib; the listener reports its own failures.
    }
}

}  // namespace desktop
