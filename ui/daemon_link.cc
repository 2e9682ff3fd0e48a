// The link thread: connect, watch, fold, fetch screens, reconnect, chime.
#include "daemon_link.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>

#include "base/deadline_pool.h"
#include "base/event_loop.h"
#include "base/mailbox.h"
#include "notifier/notifier_instance.h"
#include "wire/client.h"

namespace tether::ui {

namespace {
constexpr long k_first_retry_ms = 250;
constexpr long k_max_retry_ms = 5000;
constexpr long k_chime_timeout_ms = 5000;

void say(const std::string& line) { std::fprintf(stderr, "tether-ui: %s\n", line.c_str()); }
}  // namespace

// Everything the link thread owns; the mutex guards what the window thread touches.
struct DaemonLink::Io {
    LinkOptions options;

    mutable std::mutex mutex;
    Model model;
    std::atomic<uint64_t> version{0};
    std::atomic<uint64_t> bells{0};
    int64_t selected = 0;
    std::set<int64_t> muted;

    // Made on the window thread before the link thread starts; run there.
    std::unique_ptr<EventLoop> loop;
    std::unique_ptr<Mailbox> mailbox;  // the window's requests -> the link thread

    // Link thread only.
    std::unique_ptr<FdWatcher> socket_watcher;
    std::unique_ptr<FdWatcher> dead_watcher;  // disconnected from inside its own callback
    std::unique_ptr<Timer> retry;
    bool chime_tried = false;
    std::shared_ptr<NotifierInstance> sound;
    std::unique_ptr<DeadlinePool> chimes;  // sends off the link thread, 5 s each at most
    std::optional<Client> client;
    long retry_ms = k_first_retry_ms;
    int64_t next_id = 1;
    std::map<int64_t, std::function<void(const nlohmann::json&)>> waiting;  // by request id
    int64_t subscribed = 0;
    bool screen_in_flight = false, screen_stale = false;

    void run();
    void changed(const std::function<void(Model&)>& fn);
    void connect();
    void on_watch(const nlohmann::json& reply);
    void on_settings(const nlohmann::json& reply);
    void load_chime(const std::vector<std::string>& plugin_path);
    void disconnect(const std::string& why);
    void on_readable();
    void send(nlohmann::json req, std::function<void(const nlohmann::json&)> on_reply = {});
    void subscribe(int64_t session);
    void fetch_screen();
    void chime(const Transition& t, const SessionView& s);
    void ring(const Transition& t, const SessionView& s);
};

void DaemonLink::Io::changed(const std::function<void(Model&)>& fn) {
    {
        std::lock_guard lock(mutex);
        fn(model);
    }
    ++version;
    if (options.wake) options.wake();
}

void DaemonLink::Io::run() {
    retry = std::make_unique<Timer>(*loop, [this] { connect(); });
    connect();
    loop->run_until_stopped();
    // Teardown on this thread: the chime's sends first, then what belongs to the loop.
    chimes.reset();
    sound.reset();
    socket_watcher.reset();
    dead_watcher.reset();
    client.reset();
    retry.reset();
    mailbox.reset();
}

// The chime plugin, once the daemon has said where plugins are (its plugin_path).
void DaemonLink::Io::load_chime(const std::vector<std::string>& plugin_path) {
    if (std::exchange(chime_tried, true) || options.chime_plugin.empty()) return;
    NotifierLibraries libraries(plugin_search_path(plugin_path));
    auto instance = create_notifier(libraries, options.chime_plugin, options.chime_options, "tether-ui");
    if (!instance) {
        say("no " + options.chime_plugin + " plugin (" + instance.error().message + "); chimes ring the window's bell");
        return;
    }
    sound = std::move(*instance);
    chimes = std::make_unique<DeadlinePool>(1);
    say("chimes through the " + options.chime_plugin + " plugin");
}

void DaemonLink::Io::connect() {
    dead_watcher.reset();
    auto c = Client::connect(options.paths, /*autostart=*/false);
    if (!c) {
        std::string why = c.error().message;
        changed([&](Model& m) {
            m.connected = false;
            m.link_error = "daemon not running (" + why + "); retrying";
        });
        retry->arm_ms(retry_ms);
        retry_ms = std::min(retry_ms * 2, k_max_retry_ms);
        return;
    }
    client.emplace(std::move(*c));
    retry_ms = k_first_retry_ms;
    socket_watcher = std::make_unique<FdWatcher>(*loop, client->fd(), FdWatcher::Read, [this] { on_readable(); });
    socket_watcher->enable();
    int64_t selected_now;
    {
        std::lock_guard lock(mutex);
        selected_now = selected;
    }
    subscribed = selected_now;
    send({{"cmd", "ui_settings"}}, [this](const nlohmann::json& r) { on_settings(r); });
    nlohmann::json req{{"cmd", "watch"}};
    if (selected_now) req["screens"] = {selected_now};
    send(req, [this](const nlohmann::json& reply) { on_watch(reply); });
}

void DaemonLink::Io::on_settings(const nlohmann::json& r) {
    std::vector<std::string> terminal, plugin_path;
    if (r.value("ok", false)) {
        for (const auto& w : r.value("terminal", nlohmann::json::array()))
            if (w.is_string()) terminal.push_back(w.get<std::string>());
        for (const auto& d : r.value("plugin_path", nlohmann::json::array()))
            if (d.is_string()) plugin_path.push_back(d.get<std::string>());
    }
    changed([&](Model& m) { m.terminal = terminal; });
    load_chime(plugin_path);
}

void DaemonLink::Io::on_watch(const nlohmann::json& reply) {
    if (!reply.value("ok", false)) {
        // The selected session may be gone; watch without it.
        subscribed = 0;
        send({{"cmd", "watch"}}, [this](const nlohmann::json& r) {
            changed([&](Model& m) {
                m.connected = r.value("ok", false);
                m.apply_snapshot(r);
            });
        });
        return;
    }
    changed([&](Model& m) {
        m.connected = true;
        m.link_error.clear();
        m.apply_snapshot(reply);
    });
    if (subscribed) fetch_screen();
}

void DaemonLink::Io::disconnect(const std::string& why) {
    // Possibly inside the watcher's own callback: keep it until the next connect.
    if (socket_watcher) socket_watcher->disable();
    dead_watcher = std::move(socket_watcher);
    client.reset();
    waiting.clear();
    screen_in_flight = false;
    changed([&](Model& m) {
        m.connected = false;
        m.link_error = "daemon connection lost (" + why + "); reconnecting";
    });
    retry->arm_ms(retry_ms);
}

void DaemonLink::Io::send(nlohmann::json req, std::function<void(const nlohmann::json&)> on_reply) {
    if (!client) {
        changed([&](Model& m) { m.last_error = "not connected to the daemon"; });
        return;
    }
    int64_t id = next_id++;
    req["id"] = id;
    if (on_reply) waiting[id] = std::move(on_reply);
    else
        waiting[id] = [this, cmd = req.value("cmd", "")](const nlohmann::json& r) {
            if (!r.value("ok", false)) changed([&](Model& m) { m.last_error = cmd + ": " + r.value("error", "failed"); });
        };
    if (auto s = client->send_frame(FrameType::Json, dump_json(req)); !s) disconnect(s.error().message);
}

void DaemonLink::Io::on_readable() {
    for (;;) {
        if (!client) return;
        auto frame = client->read_frame(0);
        if (!frame) return disconnect(frame.error().message);
        if (!*frame) return;
        if ((*frame)->type != FrameType::Json) continue;
        auto j = parse_json_object((*frame)->body);
        if (!j) continue;
        if (j->value("fatal", false)) return disconnect(j->value("error", "refused"));
        if (auto id = j->find("id"); id != j->end() && id->is_number_integer()) {
            auto it = waiting.find(id->get<int64_t>());
            if (it == waiting.end()) continue;
            auto fn = std::move(it->second);
            waiting.erase(it);
            fn(*j);
            continue;
        }
        std::string event = j->value("event", "");
        if (event == "screen_changed") {
            if (j->value("session", int64_t{0}) == subscribed) fetch_screen();
            continue;
        }
        std::optional<Transition> t;
        SessionView s;
        changed([&](Model& m) {
            t = m.apply_notice(*j);
            if (t) s = m.sessions[t->session];
        });
        if (t) chime(*t, s);
    }
}

void DaemonLink::Io::fetch_screen() {
    if (!subscribed) return;
    // One fetch at a time; a change meanwhile makes one more afterwards.
    if (screen_in_flight) {
        screen_stale = true;
        return;
    }
    screen_in_flight = true;
    int64_t session = subscribed;
    send({{"cmd", "screen"}, {"session", session}, {"cells", true}}, [this, session](const nlohmann::json& r) {
        screen_in_flight = false;
        if (session == subscribed) {
            nlohmann::json reply = r;
            reply["session"] = session;
            changed([&](Model& m) { m.apply_screen(reply); });
        }
        if (std::exchange(screen_stale, false)) fetch_screen();
    });
}

void DaemonLink::Io::subscribe(int64_t session) {
    subscribed = session;
    screen_stale = false;
    changed([&](Model& m) { m.screen.reset(); });
    if (!client) return;
    nlohmann::json list = nlohmann::json::array();
    if (session) list.push_back(session);
    send({{"cmd", "watch_screens"}, {"sessions", list}});
    fetch_screen();
}

void DaemonLink::Io::chime(const Transition& t, const SessionView& s) {
    {
        std::lock_guard lock(mutex);
        if (muted.count(t.session)) return say("session " + s.name + " is muted: no chime");
    }
    // The rules' quiet hours hold for this window too: ask the daemon's rules.
    send({{"cmd", "rules_test"}, {"to", t.to}, {"session", t.session}}, [this, t, s](const nlohmann::json& r) {
        std::string quiet = r.value("quiet_hours", "");
        if (!quiet.empty()) return say("quiet hours (" + quiet + "): no chime for " + s.name);
        ring(t, s);
    });
}

void DaemonLink::Io::ring(const Transition& t, const SessionView& s) {
    if (sound) {
        Notification n;
        n.time_ms = s.state_since_us / 1000;
        n.rule = "tether-ui";
        n.session = t.session;
        n.session_name = s.name;
        n.agent = s.agent;
        n.from = t.from;
        n.to = t.to;
        n.kind = t.to == "needs_permission" ? "permission" : "question";
        n.title = s.name + (t.to == "needs_permission" ? " needs your permission" : " has a question");
        n.body = waiting_for(s);
        n.tool = s.waiting_tool;
        n.message = s.message;
        std::string key = "tether-ui:" + std::to_string(t.session) + ":" + std::to_string(s.state_since_us);
        say("chime for " + s.name + " (" + t.to + ") through the " + options.chime_plugin + " plugin");
        chimes->submit(
            [sound = sound, n = std::move(n), key] {
                if (auto r = sound->send(n, key, 1); !r.ok()) say("chime plugin: " + r.error);
            },
            std::chrono::milliseconds(k_chime_timeout_ms),
            [](bool in_time) {
                if (!in_time) say("chime plugin: timed out after " + std::to_string(k_chime_timeout_ms) + " ms");
            });
        return;
    }
    say("chime for " + s.name + " (" + t.to + ") with the bell");
    ++bells;
    if (options.wake) options.wake();
}

DaemonLink::DaemonLink(LinkOptions options) : m_io(std::make_unique<Io>()) {
    m_io->options = std::move(options);
    m_io->loop = std::make_unique<EventLoop>();
    m_io->mailbox = std::make_unique<Mailbox>(*m_io->loop, "tether-ui link");
    m_thread = std::thread([io = m_io.get()] { io->run(); });
}

DaemonLink::~DaemonLink() {
    m_io->mailbox->post([io = m_io.get()] { io->loop->stop(); });
    m_thread.join();
    m_io->loop.reset();
}

Model DaemonLink::model() const {
    std::lock_guard lock(m_io->mutex);
    return m_io->model;
}

uint64_t DaemonLink::version() const { return m_io->version.load(); }
uint64_t DaemonLink::bells() const { return m_io->bells.load(); }

void DaemonLink::request(nlohmann::json req) {
    {
        std::lock_guard lock(m_io->mutex);
        m_io->model.last_error.clear();
    }
    m_io->mailbox->post([io = m_io.get(), req = std::move(req)] { io->send(req); });
}

void DaemonLink::select(int64_t session) {
    {
        std::lock_guard lock(m_io->mutex);
        if (m_io->selected == session) return;
        m_io->selected = session;
    }
    m_io->mailbox->post([io = m_io.get(), session] { io->subscribe(session); });
}

void DaemonLink::set_muted(std::set<int64_t> sessions) {
    std::lock_guard lock(m_io->mutex);
    m_io->muted = std::move(sessions);
}

}  // namespace tether::ui
