// Socket Mode's connection loop, envelopes and acknowledgements.
#include "socket_mode.h"

#include <algorithm>
#include <optional>

namespace slack {

using nlohmann::json;
using std::chrono::milliseconds;

namespace {

// For an event about a message Slack sent: short, one line, scrubbed by the caller.
std::string short_excerpt(const std::string& text) {
    std::string s = text.substr(0, 80);
    for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    return "\"" + s + (text.size() > 80 ? "...\"" : "\"") + " (" + std::to_string(text.size()) + " bytes)";
}

std::string seconds(milliseconds ms) {
    long tenths = static_cast<long>((ms.count() + 50) / 100);
    return std::to_string(tenths / 10) + (tenths % 10 ? "." + std::to_string(tenths % 10) : "") + " s";
}

}  // namespace

SocketMode::SocketMode(SlackApi& api, Options options, notifier_sdk::Host host, notifier_chat::EventLimiter& events,
                       OnInteractive on_interactive)
    : m_api(api), m_options(std::move(options)), m_host(host), m_events(events), m_on_interactive(std::move(on_interactive)) {
    m_thread = std::thread([this] { run(); });
}

SocketMode::~SocketMode() {
    m_stopping = true;  // before the lock: serve() checks it under the lock
    {
        std::lock_guard lock(m_mutex);
        if (m_ws) m_ws->cancel();
    }
    m_cv.notify_all();
    m_thread.join();
}

bool SocketMode::pause(milliseconds ms) {
    std::unique_lock lock(m_mutex);
    return !m_cv.wait_for(lock, ms, [this] { return m_stopping.load(); });
}

void SocketMode::run() {
    const milliseconds min(m_options.reconnect_min_ms), max(m_options.reconnect_max_ms);
    milliseconds backoff = min;
    while (!m_stopping) {
        milliseconds wait = backoff;
        std::string url = open_connection(wait);
        if (m_stopping) break;
        if (!url.empty()) {
            bool hello = false;
            End end = serve(url, hello);
            if (end == End::Stopping) break;
            // Slack asked for a new connection, or one that worked dropped: come back soon;
            // one that never worked backs off.
            if (end == End::Refresh || hello) backoff = min;
            wait = backoff;
        }
        if (!pause(wait)) break;
        backoff = std::min(backoff * 2, max);
    }
}

std::string SocketMode::open_connection(milliseconds& wait) {
    Budget none{0};  // never sleep here: the loop's pause can be interrupted, a sleep cannot
    try {
        json r = m_api.call_form("apps.connections.open", m_options.app_token, {}, none, &m_stopping);
        auto url = r.find("url");
        if (url != r.end() && url->is_string() && !url->get<std::string>().empty()) return url->get<std::string>();
        m_events.report("socket_mode_failed", "Slack apps.connections.open answered without a url; retrying in " + seconds(wait));
    } catch (const SlackError& e) {
        // The token itself: revoked, a bot token instead of an app-level one, no connections:write.
        wait = milliseconds(m_options.reconnect_max_ms);
        m_events.report("app_token_rejected", std::string(e.what()) + ": clicks in Slack cannot reach tether until the app-level "
                                              "token (app_token, xapp-...) is fixed; retrying every " + seconds(wait));
    } catch (const std::exception& e) {
        if (m_stopping) return "";
        wait = std::max(wait, m_api.retry_after_left());
        m_events.report("socket_mode_unreachable", std::string(e.what()) + "; retrying in " + seconds(wait));
    }
    return "";
}

SocketMode::End SocketMode::serve(const std::string& url, bool& hello) {
    std::optional<WebSocketClient> ws;
    try {
        ws.emplace(m_options.ws);
    } catch (const std::exception& e) {
        m_events.report("socket_mode_failed", std::string("Socket Mode: ") + e.what());
        return End::Dropped;
    }
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping) return End::Stopping;
        m_ws = &*ws;
    }
    struct Forget {
        SocketMode& s;
        ~Forget() {
            std::lock_guard lock(s.m_mutex);
            s.m_ws = nullptr;
        }
    } forget{*this};
    std::string where = shown_ws_url(url);
    try {
        ws->connect(url);
        m_host.info("Socket Mode: connected to " + ws->shown());
        std::optional<End> end;
        while (!end) handle(*ws, ws->read(), hello, end);
        ws->close();
        return *end;
    } catch (const WsCancelled&) {
        return End::Stopping;
    } catch (const WsError& e) {
        if (m_stopping) return End::Stopping;
        m_events.report("socket_dropped", std::string("Socket Mode: ") + m_api.client().scrub(e.what()) + "; reconnecting");
        return End::Dropped;
    } catch (const std::invalid_argument& e) {
        m_events.report("socket_mode_failed", "Socket Mode: apps.connections.open gave " + (where.empty() ? "a URL" : where) +
                                                  ", which tether will not use: " + e.what());
        return End::Dropped;
    }
}

void SocketMode::handle(WebSocketClient& ws, const std::string& text, bool& hello, std::optional<End>& end) {
    json e = json::parse(text, nullptr, false);
    if (!e.is_object()) {
        m_events.report("bad_envelope", "Socket Mode sent a message that is not a JSON object: " +
                                            m_api.client().scrub(short_excerpt(text)));
        return;
    }
    auto type_it = e.find("type");
    std::string type = type_it != e.end() && type_it->is_string() ? type_it->get<std::string>() : "";
    auto id = e.find("envelope_id");
    if (id != e.end()) {
        if (!id->is_string() || id->get_ref<const std::string&>().empty() || id->get_ref<const std::string&>().size() > 256) {
            m_events.report("bad_envelope", "Socket Mode sent an envelope whose envelope_id is not a short string (type \"" +
                                                type + "\"): not acknowledged, not handled");
            return;
        }
        // Acknowledged first: Slack wants it within 3 s, whatever the click then does.
        ws.write(json{{"envelope_id", *id}}.dump());
        if (!m_envelopes.first_time(*id)) {
            m_host.info("Socket Mode: envelope " + id->get<std::string>() + " came again; it was handled already");
            return;
        }
    }
    if (type == "hello") {
        hello = true;
        return;
    }
    if (type == "disconnect") {
        std::string reason = e.contains("reason") && e["reason"].is_string() ? e["reason"].get<std::string>() : "";
        if (reason == "link_disabled")
            m_events.report("socket_mode_disabled", "Slack turned Socket Mode off for this app (link_disabled): clicks cannot "
                                                    "reach tether until it is on again");
        else
            m_host.info("Socket Mode: Slack asked to reconnect (" + (reason.empty() ? "no reason" : reason) + ")");
        end = End::Refresh;
        return;
    }
    if (type == "interactive") {
        auto payload = e.find("payload");
        if (id == e.end() || payload == e.end() || !payload->is_object()) {
            m_events.report("bad_envelope", "Socket Mode sent an interactive envelope without an envelope_id or a payload: ignored");
            return;
        }
        m_on_interactive(std::move(*payload));
        return;
    }
    if (type == "events_api" || type == "slash_commands") {
        m_host.log(NOTIFIER_LOG_DEBUG, "Socket Mode: " + type + " envelope ignored (tether only takes button clicks)");
        return;
    }
    m_events.report("bad_envelope", "Socket Mode sent a message of unknown type \"" + m_api.client().scrub(type.substr(0, 60)) +
                                        "\": ignored");
}

}  // namespace slack
