// The link thread: connect, watch, fold, fetch screens, reconnect, chime.
#include "daemon_link.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <deque>
#include <map>

#include "wire/client.h"
#include "base/event_loop.h"
#include "notify/plugin_host.h"

namespace tether::ui {

namespace {
constexpr long k_first_retry_ms = 250;
constexpr long k_max_retry_ms = 5000;

void say(const std::string& line) { std::fprintf(stderr, "tether-ui: %s\n", line.c_str()); }
}  // namespace

// Everything the link thread owns; the mutex guards what the window thread touches.
struct DaemonLink::Io {
    LinkOptions options;
    int wake_fd = -1;

    mutable std::mutex mutex;
    Model model;
    std::atomic<uint64_t> version{0};
    std::atomic<uint64_t> bells{0};
    std::deque<nlohmann::json> outbox;  // from the window
    int64_t selected = 0;
    bool selected_changed = false;
    std::set<int64_t> muted;
    bool stop = false;

    // Link thread only.
    std::unique_ptr<EventLoop> loop;
    std::unique_ptr<FdWatcher> wake_watcher, socket_watcher;
    std::unique_ptr<FdWatcher> dead_watcher;  // disconnected from inside its own callback
    std::unique_ptr<Timer> retry;
    std::unique_ptr<PluginHost> plugins;
    PluginHost::InstanceId sound = 0;
    std::optional<Client> client;
    long retry_ms = k_first_retry_ms;
    int64_t next_id = 1;
    std::map<int64_t, std::function<void(const nlohmann::json&)>> waiting;  // by request id
    int64_t subscribed = 0;
    bool screen_in_flight = false, screen_stale = false;

    void run();
    void changed(const std::function<void(Model&)>& fn);
    void connect();
    void disconnect(const std::string& why);
    void on_readable();
    void on_wake();
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
    loop = std::make_unique<EventLoop>();
    wake_watcher = std::make_unique<FdWatcher>(*loop, wake_fd, FdWatcher::Read, [this] { on_wake(); });
    wake_watcher->enable();
    retry = std::make_unique<Timer>(*loop, [this] { connect(); });
    if (!options.chime_plugin.empty()) {
        plugins = std::make_unique<PluginHost>(*loop, PluginHostOptions{.search_path = plugin_search_path(options.plugin_path),
                                                                        .threads = 1, .send_timeout_ms = 5000});
        auto id = plugins->create(options.chime_plugin, options.chime_options, "tether-ui");
        if (id) {
            sound = *id;
            say("chimes through the " + options.chime_plugin + " plugin");
        } else {
            say("no " + options.chime_plugin + " plugin (" + id.error().message + "); chimes ring the window's bell");
        }
    }
    connect();
    loop->run();
    // Teardown on this thread: the plugin host and watchers belong to the loop.
    socket_watcher.reset();
    dead_watcher.reset();
    client.reset();
    plugins.reset();
    retry.reset();
    wake_watcher.reset();
    loop.reset();
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
    nlohmann::json req{{"cmd", "watch"}};
    if (selected_now) req["screens"] = {selected_now};
    send(req, [this](const nlohmann::json& reply) {
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
    });
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

void DaemonLink::Io::on_wake() {
    uint64_t n;
    (void)!::read(wake_fd, &n, sizeof n);
    std::deque<nlohmann::json> requests;
    std::optional<int64_t> select;
    {
        std::lock_guard lock(mutex);
        if (stop) {
            loop->stop();
            return;
        }
        requests.swap(outbox);
        if (std::exchange(selected_changed, false)) select = selected;
    }
    if (select) subscribe(*select);
    for (auto& r : requests) send(std::move(r));
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
    std::string what = waiting_for(s);
    if (sound) {
        NotifierMessage m;
        m.idempotency_key = "tether-ui:" + std::to_string(t.session) + ":" + std::to_string(s.state_since_us);
        m.time_ms = s.state_since_us / 1000;
        m.rule = "tether-ui";
        m.session_id = std::to_string(t.session);
        m.session_name = s.name;
        m.agent = s.agent;
        m.state_from = t.from;
        m.state_to = t.to;
        m.kind = t.to == "needs_permission" ? "permission" : "question";
        m.title = s.name + (t.to == "needs_permission" ? " needs your permission" : " has a question");
        m.body = what;
        m.tool = s.waiting_tool;
        m.message = s.message;
        say("chime for " + s.name + " (" + t.to + ") through the " + options.chime_plugin + " plugin");
        plugins->deliver(sound, std::move(m), [](DeliveryResult r) {
            if (!r.ok()) say("chime plugin: " + r.error);
        });
        return;
    }
    say("chime for " + s.name + " (" + t.to + ") with the bell");
    ++bells;
    if (options.wake) options.wake();
}

DaemonLink::DaemonLink(LinkOptions options) : m_io(std::make_unique<Io>()) {
    m_io->options = std::move(options);
    m_io->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    m_thread = std::thread([io = m_io.get()] { io->run(); });
}

DaemonLink::~DaemonLink() {
    {
        std::lock_guard lock(m_io->mutex);
        m_io->stop = true;
    }
    uint64_t one = 1;
    (void)!::write(m_io->wake_fd, &one, sizeof one);
    m_thread.join();
    ::close(m_io->wake_fd);
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
        m_io->outbox.push_back(std::move(req));
    }
    uint64_t one = 1;
    (void)!::write(m_io->wake_fd, &one, sizeof one);
}

void DaemonLink::select(int64_t session) {
    {
        std::lock_guard lock(m_io->mutex);
        if (m_io->selected == session) return;
        m_io->selected = session;
        m_io->selected_changed = true;
    }
    uint64_t one = 1;
    (void)!::write(m_io->wake_fd, &one, sizeof one);
}

void DaemonLink::set_muted(std::set<int64_t> sessions) {
    std::lock_guard lock(m_io->mutex);
    m_io->muted = std::move(sessions);
}

}  // namespace tether::ui
