// The fleet on the loop thread: the view, the commands, remote decisions, the notifier's intake.
#include "fleet/fleet.h"

#include <charconv>
#include <future>

#include "base/log.h"
#include "wire/protocol.h"

namespace tether {

namespace {

constexpr long k_answer_wait_ms = 3000;  // how long a remote decision waits for the loop

// Skipped facts are reported, but a flood of them must not flood the log.
bool worth_logging(int64_t count) { return count <= 20 || count % 1000 == 0; }

}  // namespace

std::optional<std::pair<std::string, int64_t>> parse_remote_request(const std::string& target) {
    size_t colon = target.rfind(':');
    if (colon == std::string::npos || colon == 0) return std::nullopt;
    std::string host = target.substr(0, colon);
    int64_t request = 0;
    const char* b = target.data() + colon + 1;
    const char* e = target.data() + target.size();
    auto [end, ec] = std::from_chars(b, e, request);
    if (ec != std::errc() || end != e || request <= 0 || !valid_fleet_host(host)) return std::nullopt;
    return std::make_pair(host, request);
}

Fleet::Fleet(EventLoop& loop, Store& store, Hooks& hooks, const FleetConfig& config, SessionJson session_json)
    : m_loop(loop), m_store(store), m_hooks(hooks), m_config(config), m_session_json(std::move(session_json)),
      m_view([config](const std::string& h) { return config.knows_host(h); }),
      m_notice_timer(loop, [this] { flush_notices(); }), m_mailbox(loop, "fleet") {}

Result<std::unique_ptr<Fleet>> Fleet::start(EventLoop& loop, Store& store, Hooks& hooks, const FleetConfig& config,
                                            const std::string& state_dir, const std::string& log_path, SessionJson session_json) {
    std::unique_ptr<Fleet> f(new Fleet(loop, store, hooks, config, std::move(session_json)));
    if (auto s = f->load_taken(); !s) return Error{"fleet: reading what the notifier took: " + s.error().message};
    Fleet* self = f.get();
    f->m_link_since_us = now_us();
    auto link = NatsLink::open(config, [self](bool up, const std::string& why) {
        self->m_connected = up;
        self->m_mailbox.post([self, up, why] {
            self->m_link_status = why;
            self->m_link_since_us = now_us();
            log_info("fleet: " + why);
            if (up && self->m_publisher) self->m_publisher->kick();
        });
    });
    if (!link) return link.error();
    f->m_link = std::move(*link);
    f->m_connected = f->m_link->connected();
    if (f->m_connected) f->m_link_status = "connected";
    if (auto s = f->m_link->serve(fleet_request_subject(config.host, "*"),
                                  [self](std::string_view subject, std::string_view d) { return self->answer(subject, d); });
        !s)
        return s.error();
    f->m_publisher = std::make_unique<FleetPublisher>(*f->m_link, config, log_path, state_dir + "/fleet-published");
    f->m_follower = std::make_unique<FleetFollower>(*f->m_link, [self](uint64_t seq, Result<FleetFact> fact) {
        auto shared = std::make_shared<Result<FleetFact>>(std::move(fact));
        self->m_mailbox.post([self, seq, shared] { self->on_fact(seq, std::move(*shared)); });
    });
    f->m_requests = std::make_unique<DeadlinePool>(1);
    // What is already durable (the DaemonStarted of this start, at least) goes out too.
    f->m_publisher->committed(store.log().durable_seq());
    log_info("fleet: host " + config.host + ", server " + config.urls.front() + (config.notify ? ", the fleet's notifier" : ""));
    return f;
}

void Fleet::on_committed(const Event& ev) {
    if (fleet_publishes(ev.kind, m_config.output)) m_publisher->committed(ev.seq);
}

Fleet::~Fleet() {
    m_closing = true;
    if (m_connected && m_publisher && !m_publisher->drain(1000)) log_warn("fleet: stopping with facts not yet published; the next start publishes them");
    m_requests.reset();
    m_follower.reset();
    m_publisher.reset();
    m_link.reset();  // waits for libnats' callbacks, which post into m_mailbox
}

Status Fleet::load_taken() {
    auto q = m_store.log().db().prepare("SELECT payload FROM events WHERE kind >= 21 AND kind = 50 ORDER BY seq");
    if (!q) return q.error();
    for (;;) {
        auto row = q->step();
        if (!row) return row.error();
        if (!*row) break;
        auto j = nlohmann::json::parse(q->column_blob(0), nullptr, false);
        if (!j.is_object()) continue;
        m_taken[j.value("host", "")] = {j.value("epoch", int64_t{0}), j.value("seq", int64_t{0})};
    }
    return {};
}

void Fleet::on_fact(uint64_t stream_seq, Result<FleetFact> f) {
    m_stream_seq = std::max<uint64_t>(m_stream_seq, stream_seq);
    if (!f) {
        m_view.count_malformed("stream message " + std::to_string(stream_seq) + ": " + f.error().message);
        if (worth_logging(m_view.skipped().malformed))
            log_warn("fleet: skipped stream message " + std::to_string(stream_seq) + ": " + f.error().message);
        return;
    }
    int64_t previous_since = 0;
    if (const HostView* h = m_view.host(f->host))
        if (const SessionRow* row = h->sessions.find(f->session)) previous_since = row->state_since_us;
    FleetView::Applied a = m_view.apply(*f);
    if (a.outcome != FleetView::Outcome::applied) {
        const auto& s = m_view.skipped();
        if (worth_logging(s.repeated + s.older_epoch + s.unknown_host))
            log_warn("fleet: skipped stream message " + std::to_string(stream_seq) + ": " + a.why);
        return;
    }
    if (a.host_reset) log_info("fleet: host " + f->host + " has a new log; its earlier sessions are gone from the view");
    m_dirty.insert(f->host);
    // After the facts the follower handed over together (one, or a start-up's replay of
    // the whole stream): one notice per host for the lot, on the next loop turn.
    if (!m_notice_timer.armed()) m_notice_timer.arm_ms(0);
    if (f->kind == EventKind::StateChanged && m_config.notify && f->host != m_config.host) maybe_take_transition(*f, previous_since);
}

// The notifier's intake: each transition of another host once, across restarts (m_taken
// is rebuilt from the log), and only while it is fresh: a notifier that starts, or comes
// back after a long absence, does not page anyone about the past.
void Fleet::maybe_take_transition(const FleetFact& f, int64_t previous_since_us) {
    auto it = m_taken.find(f.host);
    if (it != m_taken.end() && (f.epoch < it->second.first || (f.epoch == it->second.first && f.seq <= it->second.second))) return;
    if (f.time_us < now_us() - m_config.notify_window_s * 1000000) return;
    const HostView* h = m_view.host(f.host);
    const SessionRow* row = h ? h->sessions.find(f.session) : nullptr;
    auto j = f.event().json();
    nlohmann::json fact{{"host", f.host},
                        {"epoch", f.epoch},
                        {"seq", f.seq},
                        {"session", f.session},
                        {"name", row ? row->name : ""},
                        {"cwd", row ? row->cwd : ""},
                        {"agent", row ? row->agent : ""},
                        {"from", j.value("from", "")},
                        {"to", j.value("to", "")},
                        {"tool", j.value("tool", "")},
                        {"tool_input", j.value("tool_input", nlohmann::json())},
                        {"message", j.value("message", "")},
                        {"question", j.value("question", "")},
                        {"previous_us", previous_since_us ? f.time_us - previous_since_us : 0},
                        {"attached", h && h->attached.count(f.session) > 0},
                        {"time_us", f.time_us}};
    m_store.append(make_json_event(0, EventKind::FleetStateChanged, fact), /*urgent=*/true);
    m_taken[f.host] = {f.epoch, f.seq};
}

void Fleet::flush_notices() {
    std::set<std::string> dirty;
    dirty.swap(m_dirty);
    if (!m_notice) return;
    for (const auto& host : dirty)
        if (const HostView* h = m_view.host(host)) m_notice({{"event", "fleet"}, {"host", host_json(*h)}});
}

nlohmann::json Fleet::host_json(const HostView& h) const {
    nlohmann::json sessions = nlohmann::json::array();
    for (const auto& [id, row] : h.sessions.sessions) {
        nlohmann::json s = m_session_json(row);
        s["host"] = h.host;
        if (h.attached.count(id)) s["attached"] = h.attached.at(id);
        sessions.push_back(std::move(s));
    }
    nlohmann::json pending = nlohmann::json::array();
    int64_t now = now_us();
    for (const auto& [req, p] : h.pending) pending.push_back(remote_pending_json(h, p, now));
    return {{"host", h.host},          {"self", h.host == m_config.host}, {"epoch", h.epoch},
            {"last_seq", h.last_seq},  {"last_time_us", h.last_time_us},  {"daemon_up", h.daemon_up},
            {"daemon_since_us", h.daemon_since_us}, {"sessions", sessions}, {"pending", pending}};
}

nlohmann::json Fleet::hosts_json() const {
    nlohmann::json hosts = nlohmann::json::array();
    for (const auto& [name, h] : m_view.hosts()) hosts.push_back(host_json(h));
    return hosts;
}

nlohmann::json Fleet::status_json() const {
    FleetPublisher::Stats p = m_publisher->stats();
    const auto& s = m_view.skipped();
    return {{"host", m_config.host},
            {"connected", m_connected.load()},
            {"link", m_link_status},
            {"server_error", m_link->last_error()},
            {"link_since_us", m_link_since_us},
            {"stream", m_config.stream},
            {"stream_seq", m_stream_seq},
            {"notifier", m_config.notify},
            {"published", {{"acked_seq", p.acked_seq}, {"count", p.published}, {"duplicates", p.duplicates}, {"last_error", p.last_error}}},
            {"skipped", {{"repeated", s.repeated}, {"older_epoch", s.older_epoch}, {"unknown_host", s.unknown_host},
                         {"malformed", s.malformed}, {"last_reason", s.last_reason}}}};
}

bool Fleet::handle(const std::shared_ptr<Connection>& conn, const std::string& cmd, const nlohmann::json& req) {
    if (cmd == "fleet_ls") {
        conn->reply_ok(req, {{"fleet", status_json()}, {"hosts", hosts_json()}});
        return true;
    }
    if (cmd == "fleet_pending") {
        nlohmann::json list = nlohmann::json::array();
        int64_t now = now_us();
        for (const auto& [name, h] : m_view.hosts())
            for (const auto& [r, p] : h.pending) list.push_back(remote_pending_json(h, p, now));
        conn->reply_ok(req, {{"pending", list}, {"fleet", status_json()}});
        return true;
    }
    if ((cmd == "approve" || cmd == "deny") && req.contains("target") && req["target"].is_string() &&
        req["target"].get<std::string>().find(':') != std::string::npos) {
        cmd_decide(conn, req, cmd == "approve");
        return true;
    }
    return false;
}

void Fleet::cmd_decide(const std::shared_ptr<Connection>& conn, const nlohmann::json& req, bool allow) {
    const char* verb = allow ? "approve" : "deny";
    std::string target = req["target"].get<std::string>();
    auto remote = parse_remote_request(target);
    if (!remote) return conn->reply_error(req, std::string(verb) + ": \"" + target + "\" is not HOST:REQUEST (tether pending --fleet lists them)");
    auto [host, request] = *remote;
    PermissionDecision d{allow ? "allow" : "deny", req.value("message", ""), "", allow && req.value("always", false)};
    if (host == m_config.host) {
        d.by = req.value("by", "cli");
        int64_t session = 0;
        if (auto entry = m_hooks.pending_entry(request)) session = entry->value("session", int64_t{0});
        if (auto s = m_hooks.decide(request, d); !s) return conn->reply_error(req, std::string(verb) + ": " + s.error().message);
        return conn->reply_ok(req, {{"request", target}, {"session", session}, {"host", host}});
    }
    if (!m_config.knows_host(host)) return conn->reply_error(req, std::string(verb) + ": host " + host + " is not in fleet.hosts");
    nlohmann::json body{{"request", request}, {"decision", d.decision}, {"message", d.message}, {"always", d.always}};
    auto reply = std::make_shared<Result<std::string>>(Error{"no answer"});
    NatsLink* link = m_link.get();
    long timeout = m_config.request_timeout_ms;
    std::weak_ptr<Connection> weak = conn;
    Fleet* self = this;
    bool connected = m_connected;
    m_requests->submit(
        [link, subject = fleet_request_subject(host, m_config.host), body, timeout, reply, connected] {
            if (!connected) *reply = Error{"this daemon is not connected to the fleet server"};
            else *reply = link->request(subject, dump_json(body), timeout);
        },
        std::chrono::milliseconds(timeout + 1000),
        [self, weak, req, reply, verb, host = host, target](bool in_time) {
            self->m_mailbox.post([weak, req, reply, verb, host, target, in_time] {
                auto c = weak.lock();
                if (!c) return;
                if (!in_time || !*reply)
                    return c->reply_error(req, std::string(verb) + ": host " + host + " did not answer (" +
                                                   (in_time ? reply->error().message : std::string("timed out")) +
                                                   "): is its tetherd running and connected to the fleet?");
                auto j = nlohmann::json::parse(**reply, nullptr, false);
                if (!j.is_object()) return c->reply_error(req, std::string(verb) + ": host " + host + " gave an answer that does not read");
                if (!j.value("ok", false)) return c->reply_error(req, std::string(verb) + ": " + host + ": " + j.value("error", std::string("refused")));
                c->reply_ok(req, {{"request", target}, {"session", j.value("session", int64_t{0})}, {"host", host}});
            });
        });
}

// Another host asks this one to decide one of its requests: decided on the loop, like
// `tether approve`, by "fleet:<from>"; this libnats thread waits for the outcome. The
// asker is the subject's last token, which the server lets only that host publish.
std::string Fleet::answer(std::string_view subject, std::string_view data) {
    auto j = nlohmann::json::parse(data, nullptr, false);
    auto fail = [](const std::string& why) { return dump_json({{"ok", false}, {"error", why}}); };
    if (m_closing) return fail("tetherd is stopping");
    if (!j.is_object() || !j.contains("request") || !j["request"].is_number_integer()) return fail("the request does not read");
    std::string decision = j.value("decision", "");
    std::string from(subject.substr(subject.rfind('.') + 1));
    if (decision != "allow" && decision != "deny") return fail("decision must be allow or deny");
    if (!valid_fleet_host(from) || !m_config.knows_host(from)) return fail("host \"" + from + "\" is not in this host's fleet.hosts");
    PermissionDecision d{decision, j.value("message", ""), "fleet:" + from, decision == "allow" && j.value("always", false)};
    int64_t request = j["request"].get<int64_t>();
    auto outcome = std::make_shared<std::promise<std::string>>();
    std::future<std::string> done = outcome->get_future();
    m_mailbox.post([this, outcome, request, d, fail] {
        int64_t session = 0;
        if (auto entry = m_hooks.pending_entry(request)) session = entry->value("session", int64_t{0});
        Status s = m_hooks.decide(request, d);
        if (s) log_info("fleet: request " + std::to_string(request) + " " + d.decision + " by " + d.by);
        outcome->set_value(s ? dump_json({{"ok", true}, {"session", session}}) : fail(s.error().message));
    });
    if (done.wait_for(std::chrono::milliseconds(k_answer_wait_ms)) != std::future_status::ready) return fail("tetherd is busy; try again");
    return done.get();
}

}  // namespace tether
