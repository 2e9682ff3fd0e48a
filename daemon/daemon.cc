// Daemon wiring and the control commands.
#include "daemon.h"

#include <signal.h>
#include <unistd.h>

#include "base/log.h"
#include "log/event_log_recovery.h"

namespace tether {

namespace {

RetentionLimits retention_limits(const Config& c) {
    return {.max_age_us = int64_t{c.retention_max_age_days} * 86400 * 1000000,
            .max_total_bytes = int64_t{c.retention_max_total_mib} << 20};
}

}  // namespace

Result<std::unique_ptr<Daemon>> Daemon::start(const DaemonOptions& options) {
    if (auto s = ensure_private_dir(options.paths.state_dir); !s) return Error{"state directory: " + s.error().message};
    std::string socket_dir = options.paths.socket_path.substr(0, options.paths.socket_path.rfind('/'));
    if (auto s = ensure_private_dir(socket_dir); !s) return Error{"socket directory: " + s.error().message};
    auto lock = LockFile::acquire(options.paths.lock_file());
    if (!lock) return lock.error();

    std::unique_ptr<Daemon> d(new Daemon(options, std::move(*lock)));
    auto log = EventLog::open(options.paths.event_log());
    if (!log) return with_damage_hint(log.error());
    if ((*log)->migrated_from() > 0)
        log_info("event log migrated from schema version " + std::to_string((*log)->migrated_from()) + " to " +
                 std::to_string(EventLog::k_schema_version));
    d->m_store = std::make_unique<Store>(d->m_loop, std::move(*log), options.store);
    if (auto s = d->m_store->load(); !s) return with_damage_hint(s.error());
    d->m_sessions = std::make_unique<Sessions>(d->m_loop, *d->m_store, options.sessions, options.screen, options.config.detach_key,
                                               options.paths.socket_path, options.paths.event_log(),
                                               options.paths.state_dir);
    d->m_tracker = std::make_unique<AgentTracker>(d->m_loop, *d->m_store);
    AgentTracker* tracker = d->m_tracker.get();
    d->m_sessions->set_adopt_listener([tracker](int64_t id) {
        if (auto s = tracker->restore(id); !s) log_error("session " + std::to_string(id) + ": agent state not restored: " + s.error().message);
    });
    d->m_hooks = std::make_unique<Hooks>(d->m_loop, *d->m_store, *d->m_tracker);
    d->m_plugins = std::make_unique<PluginHost>(d->m_loop, PluginHostOptions{.search_path = plugin_search_path(options.config.plugin_path)});
    Sessions* sessions = d->m_sessions.get();
    d->m_notifications = std::make_unique<Notifications>(d->m_loop, *d->m_store, *d->m_hooks, *d->m_plugins,
                                                         [sessions](int64_t id) { return sessions->attached(id); });
    if (auto s = d->m_notifications->configure(*options.config.rules); !s)
        return Error{"configuration " + options.paths.config_path + ": " + s.error().message};

    d->m_recordings = std::make_unique<Recordings>(d->m_loop, *d->m_store, options.paths.event_log());
    Recordings* recordings = d->m_recordings.get();
    d->m_retention = std::make_unique<Retention>(d->m_loop, *d->m_store, retention_limits(options.config),
                                                 [recordings](int64_t session) { recordings->forget(session); });

    Daemon* self = d.get();
    d->m_watchers = std::make_unique<Watchers>(d->m_loop, *d->m_store, *d->m_hooks,
                                               [self](const SessionRow& row) { return self->session_json(row); });
    if (options.config.fleet && options.config.fleet->enabled()) d->start_fleet(*options.config.fleet);
    d->wire_pipeline();
    d->m_server = std::make_unique<ControlServer>(
        d->m_loop, [self](const std::shared_ptr<Connection>& c, const nlohmann::json& r) { self->handle(c, r); },
        options.control);
    if (auto s = d->m_server->listen(options.paths.socket_path); !s) return s.error();

    d->m_sigterm = std::make_unique<SignalWatcher>(d->m_loop, SIGTERM, [self] { self->request_stop("SIGTERM"); });
    d->m_sigint = std::make_unique<SignalWatcher>(d->m_loop, SIGINT, [self] { self->request_stop("SIGINT"); });
    // Reserved for config reload (rules and notifiers arrive with the config).
    d->m_sighup = std::make_unique<SignalWatcher>(d->m_loop, SIGHUP, [self] { (void)self->reload_config(); });

    d->m_store->append(make_json_event(0, EventKind::DaemonStarted,
                                       {{"pid", getpid()}, {"version", TETHER_VERSION},
                                        {"schema", EventLog::k_schema_version}}));
    if (auto s = d->m_sessions->adopt_holders(); !s) return s.error();
    d->record_config({});
    if (auto resumed = d->m_notifications->resume(); !resumed) return resumed.error();
    else if (*resumed > 0) log_info("redelivering " + std::to_string(*resumed) + " notifications left unconfirmed");
    if (auto s = d->m_store->flush(); !s) return s.error();
    log_info("tetherd " TETHER_VERSION " started: state " + options.paths.state_dir + ", socket " +
             options.paths.socket_path + ", config " +
             (options.paths.config_path.empty() ? std::string("(defaults)") : options.paths.config_path));
    return d;
}

// The pipeline: who sees each committed event, in this order, and only here (docs/
// ARCHITECTURE.md, "The pipeline", says the same). After a commit, each event of the
// group goes through all of them, in this order, before the next event; what a listener
// appends is committed with the next group and comes round again.
void Daemon::wire_pipeline() {
    Sessions* sessions = m_sessions.get();
    AgentTracker* tracker = m_tracker.get();
    Hooks* hooks = m_hooks.get();
    Notifications* notifications = m_notifications.get();
    Watchers* watchers = m_watchers.get();
    // 1. Output to attached clients and the screen follower; the holders' acknowledgements.
    m_store->add_listener([sessions](const Event& ev) { sessions->on_committed(ev); });
    // 2. The agent-state reducer: StateChanged.
    m_store->add_listener([tracker](const Event& ev) { tracker->on_committed(ev); });
    // 3. Permission waits that the agent's moving on (or its end) closes.
    m_store->add_listener([hooks](const Event& ev) { hooks->on_committed(ev); });
    // 4. The outbox: a queued notification goes to its plugin.
    m_store->add_listener([notifications](const Event& ev) { notifications->outbox().on_committed(ev); });
    // 5. The rules: state changes notify and escalate; acknowledgements cancel.
    m_store->add_listener([notifications](const Event& ev) { notifications->on_committed(ev); });
    // 6. Watch streams (tether-ui): what changed, after everything above.
    m_store->add_listener([watchers](const Event& ev) { watchers->on_committed(ev); });
    // 7. The fleet (when configured): committed facts that travel go to its publisher.
    if (Fleet* fleet = m_fleet.get()) m_store->add_listener([fleet](const Event& ev) { fleet->on_committed(ev); });
}

// The fleet is an extra: a daemon whose fleet cannot start works on locally and says why.
void Daemon::start_fleet(const FleetConfig& config) {
    auto fleet = Fleet::start(m_loop, *m_store, *m_hooks, config, m_options.paths.state_dir, m_options.paths.event_log(),
                              [this](const SessionRow& row) { return session_json(row); });
    if (!fleet) {
        m_fleet_error = fleet.error().message;
        log_error("fleet: not started: " + m_fleet_error);
        return;
    }
    m_fleet = std::move(*fleet);
    Watchers* watchers = m_watchers.get();
    Fleet* f = m_fleet.get();
    m_fleet->set_notice([watchers](const nlohmann::json& n) { watchers->push(n); });
    watchers->set_snapshot_extra([f](nlohmann::json& reply) { reply["fleet"] = f->hosts_json(); });
}

Daemon::Daemon(const DaemonOptions& options, LockFile lock) : m_options(options), m_lock(std::move(lock)) {}

Daemon::~Daemon() {
    m_server.reset();
    // Commit while every listener still exists; what the teardown appends is committed
    // by the store's own destructor, without listeners.
    if (m_store) (void)m_store->flush();
    m_fleet.reset();
    m_watchers.reset();
    m_retention.reset();
    m_recordings.reset();
    m_notifications.reset();
    m_plugins.reset();
    m_hooks.reset();
    m_sessions.reset();
    m_store.reset();  // final flush
}

int Daemon::run() {
    m_loop.run();
    m_server->close_all();
    m_sessions->shutdown();
    size_t kept = 0;
    for (const auto& [id, row] : m_store->sessions().sessions) kept += row.live() && !row.external;
    m_store->append(make_json_event(0, EventKind::DaemonStopped, {{"reason", m_stop_reason}, {"sessions_kept", kept}}));
    if (auto s = m_store->flush(); !s) {
        log_error("event log: final commit failed: " + s.error().message);
        return 1;
    }
    log_info("tetherd stopped (" + m_stop_reason + ")");
    return 0;
}

void Daemon::record_config(const Status& outcome) {
    const RuleConfig& rules = m_notifications->rules();
    nlohmann::json fact{{"path", m_options.paths.config_path}, {"ok", bool(outcome)},
                        {"notifiers", rules.notifiers.size()}, {"rules", rules.rules.size()}};
    if (!outcome) fact["errors"] = outcome.error().message;  // locations and hints, never option values
    m_store->append(make_json_event(0, EventKind::ConfigLoaded, fact));
}

Status Daemon::reload_config() {
    auto config = load_config(m_options.paths.config_path);
    Status outcome = config ? m_notifications->configure(*config->rules) : Status(config.error());
    if (!outcome) {
        log_error("configuration reload refused, keeping the old one: " + outcome.error().message);
    } else {
        m_options.config = *config;
        m_retention->set_limits(retention_limits(*config));
        log_info("configuration reloaded from " + m_options.paths.config_path);
    }
    record_config(outcome);
    return outcome;
}

void Daemon::cmd_rules_test(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    Transition t;
    if (const SessionRow* row = m_store->sessions().resolve(req.value("session", nlohmann::json()))) {
        t.session_id = row->id;
        t.session_name = row->name;
        t.cwd = row->cwd;
        t.agent = row->agent;
        t.from = row->state;
        t.previous_us = now_us() - row->state_since_us;
    }
    auto text = [&](const char* key, std::string& out) {
        if (req.contains(key) && req[key].is_string()) out = req[key].get<std::string>();
    };
    text("name", t.session_name);
    text("cwd", t.cwd);
    text("agent", t.agent);
    text("from", t.from);
    text("to", t.to);
    text("tool", t.tool);
    text("message", t.message);
    text("question", t.question);
    if (req.contains("tool_input")) t.tool_input = req["tool_input"];
    if (req.contains("previous_s") && req["previous_s"].is_number()) t.previous_us = static_cast<int64_t>(req["previous_s"].get<double>() * 1e6);
    t.attached = req.value("attached", false);
    if (t.to.empty()) return conn->reply_error(req, "rules test: give the new state (--to)");
    nlohmann::json verdicts = nlohmann::json::array();
    for (const auto& v : m_notifications->dry_run(t)) {
        nlohmann::json actions = nlohmann::json::array();
        for (const auto& a : v.actions) actions.push_back(describe_action(a));
        verdicts.push_back({{"rule", v.rule}, {"matched", v.matched}, {"decides", v.decides}, {"why", v.why}, {"actions", actions}});
    }
    std::string quiet;
    bool in_quiet = in_quiet_hours(m_notifications->rules(), t.to, now_us(), &quiet);
    conn->reply_ok(req, {{"verdicts", verdicts}, {"quiet_hours", in_quiet ? quiet : ""},
                         {"transition", {{"session", t.session_name}, {"from", t.from}, {"to", t.to}, {"tool", t.tool}}}});
}

void Daemon::request_stop(const std::string& reason) {
    m_stop_reason = reason;
    m_loop.stop();
}

nlohmann::json Daemon::session_json(const SessionRow& row) const {
    nlohmann::json j{{"id", row.id},
                     {"name", row.name},
                     {"command", row.command},
                     {"cwd", row.cwd},
                     {"agent", row.agent},
                     {"state", row.state},
                     {"state_since_us", row.state_since_us},
                     {"started_us", row.started_us},
                     {"last_activity_us", row.last_activity_us},
                     {"bytes_out", row.bytes_out},
                     {"bytes_in", row.bytes_in},
                     {"cols", row.cols},
                     {"rows", row.rows},
                     {"pid", row.pid},
                     {"title", row.title}};
    if (!row.waiting_tool.empty()) j["waiting_tool"] = row.waiting_tool;
    if (!row.waiting_input.empty()) j["waiting_input"] = nlohmann::json::parse(row.waiting_input, nullptr, false);
    if (!row.message.empty()) j["message"] = row.message;
    if (!row.state_reason.empty()) j["state_reason"] = row.state_reason;
    if (row.external) j["external"] = true;
    if (row.exit_code) j["exit_code"] = *row.exit_code;
    if (row.exit_signal) j["exit_signal"] = *row.exit_signal;
    if (!row.error.empty()) j["error"] = row.error;
    return j;
}

void Daemon::handle(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    const std::string cmd = req["cmd"].get<std::string>();
    if (m_sessions->handle(conn, cmd, req)) return;
    if (m_fleet && m_fleet->handle(conn, cmd, req)) return;
    if (cmd == "fleet_ls" || cmd == "fleet_pending")
        return conn->reply_error(req, m_fleet_error.empty() ? "this daemon is in no fleet (no fleet: in its configuration)"
                                                            : "the fleet did not start: " + m_fleet_error);
    if (m_hooks->handle(conn, cmd, req)) return;
    if (m_watchers->handle(conn, cmd, req)) return;
    if (m_recordings->handle(conn, cmd, req)) return;
    if (m_retention->handle(conn, cmd, req)) return;
    // The daemon's own commands, one handler each.
    using Handler = void (Daemon::*)(const std::shared_ptr<Connection>&, const nlohmann::json&);
    static const std::map<std::string, Handler, std::less<>> k_commands = {
        {"status", &Daemon::cmd_status},   {"ls", &Daemon::cmd_ls},
        {"mark", &Daemon::cmd_mark},       {"verify", &Daemon::cmd_verify},
        {"rebuild", &Daemon::cmd_rebuild}, {"config_reload", &Daemon::cmd_config_reload},
        {"holders", &Daemon::cmd_holders}, {"adopt", &Daemon::cmd_adopt},
        {"rules_test", &Daemon::cmd_rules_test}, {"stop", &Daemon::cmd_stop},
        {"ui_settings", &Daemon::cmd_ui_settings},
    };
    if (auto it = k_commands.find(cmd); it != k_commands.end()) return (this->*it->second)(conn, req);
    conn->fail("unknown command \"" + cmd + "\" (this is tetherd " TETHER_VERSION ")");
}

// While the log cannot be written, status and ls say so first (docs/PROTOCOL.md).
void Daemon::add_log_health(nlohmann::json& body) const {
    const StoreHealth& h = m_store->health();
    if (h.ok()) return;
    body["log_error"] = h.error;
    body["log_error_since_us"] = h.since_us;
    body["log_waiting_events"] = m_store->log().pending_events();
    body["log_waiting_bytes"] = m_store->log().pending_bytes();
}

void Daemon::cmd_status(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    nlohmann::json body{{"pid", getpid()},
                         {"version", TETHER_VERSION},
                         {"protocol", k_protocol_version},
                         {"state_dir", m_options.paths.state_dir},
                         {"socket", m_options.paths.socket_path},
                         {"config", m_options.paths.config_path},
                         {"events", m_store->log().last_seq()},
                         {"sessions", m_store->sessions().sessions.size()}};
    add_log_health(body);
    conn->reply_ok(req, body);
}

// What tether-ui takes from the configuration: it reads no config file of its own.
void Daemon::cmd_ui_settings(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    conn->reply_ok(req, {{"terminal", m_options.config.ui_terminal}, {"plugin_path", m_options.config.plugin_path}});
}

void Daemon::cmd_ls(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [id, row] : m_store->sessions().sessions) {
        list.push_back(session_json(row));
        if (pid_t holder = m_sessions->holder_pid(id)) list.back()["holder_pid"] = holder;
    }
    nlohmann::json body{{"sessions", list}};
    add_log_health(body);
    conn->reply_ok(req, body);
}

void Daemon::cmd_mark(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    int64_t session = 0;
    if (req.contains("session") && !req["session"].is_null()) {
        const SessionRow* row = m_store->sessions().resolve(req["session"]);
        if (!row) return conn->reply_error(req, "no such session: " + dump_json(req["session"]));
        session = row->id;
    }
    if (!req.contains("text") || !req["text"].is_string())
        return conn->reply_error(req, "mark: \"text\" must be a string");
    const Event& ev = m_store->append(make_json_event(session, EventKind::MarkerAdded, {{"text", req["text"]}}));
    int64_t seq = ev.seq;
    // Acknowledge only once durable: an acknowledged event survives kill -9.
    std::weak_ptr<Connection> weak = conn;
    m_store->when_durable([weak, req, seq] {
        if (auto c = weak.lock()) c->reply_ok(req, {{"seq", seq}});
    });
}

void Daemon::cmd_verify(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    auto v = m_store->verify_rebuild();
    if (!v) return conn->reply_error(req, v.error().message);
    conn->reply_ok(req, {{"live_matches", v->live_matches},
                         {"tables_match", v->tables_match},
                         {"events", v->events},
                         {"sessions", v->sessions}});
}

void Daemon::cmd_rebuild(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    if (auto s = m_store->rebuild(); !s) return conn->reply_error(req, s.error().message);
    m_recordings->rebuild();
    conn->reply_ok(req, {{"events", m_store->log().durable_seq()}, {"sessions", m_store->sessions().sessions.size()}});
}

void Daemon::cmd_config_reload(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    Status outcome = reload_config();
    std::weak_ptr<Connection> weak = conn;
    // Answered once the ConfigLoaded fact is durable, like every acknowledgement.
    m_store->when_durable([weak, req, outcome, path = m_options.paths.config_path] {
        auto c = weak.lock();
        if (!c) return;
        if (!outcome) c->reply_error(req, outcome.error().message);
        else c->reply_ok(req, {{"path", path}});
    });
}

void Daemon::cmd_holders(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    conn->reply_ok(req, {{"holders_dir", m_sessions->holders_dir()}, {"orphans", m_sessions->orphans()}});
}

void Daemon::cmd_adopt(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    if (!req.contains("session") || !req["session"].is_number_integer())
        return conn->reply_error(req, "adopt: \"session\" must be a session id");
    auto adopted = m_sessions->adopt_orphan(req["session"].get<int64_t>());
    if (!adopted) return conn->reply_error(req, "adopt: " + adopted.error().message);
    std::weak_ptr<Connection> weak = conn;
    m_store->when_durable([weak, req, id = *adopted] {
        if (auto c = weak.lock()) c->reply_ok(req, {{"session", id}});
    });
}

void Daemon::cmd_stop(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    // Stop once the reply has left, so the client learns that it was heard.
    std::string reason = "stop requested by client pid " + std::to_string(conn->peer_pid());
    if (req.value("end_sessions", false) && m_sessions->live_count() > 0) {
        // Answered once every session has ended; then the daemon stops.
        std::weak_ptr<Connection> weak = conn;
        m_sessions->end_all([this, weak, req, reason] {
            auto c = weak.lock();
            if (!c) return request_stop(reason);
            c->on_drained = [this, reason] { request_stop(reason); };
            c->reply_ok(req, {{"sessions_kept", m_sessions->live_count()}});
        });
        return;
    }
    conn->on_drained = [this, reason] { request_stop(reason); };
    conn->reply_ok(req, {{"sessions_kept", m_sessions->live_count()}});
}

}  // namespace tether
