// Hook intake, external sessions, pending permissions, notify, wait.
#include "agent/hooks.h"

#include <algorithm>
#include <ctime>
#include <filesystem>

#include "base/json_text.h"
#include "base/log.h"
#include "wire/protocol.h"

namespace tether {

namespace {
constexpr long k_max_wait_ms = 24L * 3600 * 1000;
constexpr size_t k_malformed_keep = 64u << 10;
constexpr size_t k_decided_kept = 4096;

// "12:03:04" in local time, for a sentence a person reads in a chat.
std::string clock_text(int64_t time_us) {
    std::time_t secs = static_cast<std::time_t>(time_us / 1000000);
    std::tm tm{};
    localtime_r(&secs, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    return buf;
}

std::string str(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

struct Hooks::Pending {
    int64_t session = 0;
    int64_t hook = 0;  // seq of the HookReceived that asked
    int64_t started_us = 0;
    std::string tool;
    nlohmann::json tool_input;
    nlohmann::json payload;
    std::weak_ptr<Connection> conn;
    std::unique_ptr<Timer> timeout;
};

std::string permission_answer(const PermissionDecision& d, const nlohmann::json& payload) {
    nlohmann::json decision{{"behavior", d.decision == "allow" ? "allow" : "deny"}};
    if (d.decision == "allow" && d.always) {
        // Echoing a suggestion back is what the agent's own "always allow" does.
        auto it = payload.find("permission_suggestions");
        if (it != payload.end() && it->is_array() && !it->empty()) decision["updatedPermissions"] = {(*it)[0]};
    }
    if (d.decision != "allow" && !d.message.empty()) decision["message"] = d.message;
    return dump_json({{"hookSpecificOutput", {{"hookEventName", "PermissionRequest"}, {"decision", decision}}}});
}

std::string pre_tool_use_answer(const PermissionDecision& d) {
    nlohmann::json out{{"hookEventName", "PreToolUse"}, {"permissionDecision", d.decision == "allow" ? "allow" : "deny"}};
    if (!d.message.empty()) out["permissionDecisionReason"] = d.message;
    return dump_json({{"hookSpecificOutput", out}});
}

Hooks::Hooks(EventLoop& loop, Store& store, AgentTracker& tracker)
    : m_loop(loop), m_store(store), m_tracker(tracker), m_started_after(store.log().last_seq()) {}

void Hooks::on_committed(const Event& ev) {
    // A wait ends with its session: the agent moved on (answered in its terminal, or exited).
    if (ev.kind != EventKind::StateChanged && ev.kind != EventKind::SessionExited) return;
    auto j = ev.json();
    std::string to = ev.kind == EventKind::SessionExited ? "exited" : j.value("to", "");
    if (to == "needs_permission") return;
    // Only what happened after the request ends it, not a late transition of before.
    int64_t cause = ev.kind == EventKind::SessionExited ? ev.seq : j.value("cause", int64_t{0});
    std::vector<int64_t> stale;
    for (auto& [id, p] : m_pending)
        if (p->session == ev.session && cause > id) stale.push_back(id);
    for (int64_t id : stale) resolve(id, {"ask", "", "agent", false, ""});
}

Hooks::~Hooks() = default;

bool Hooks::handle(const std::shared_ptr<Connection>& conn, const std::string& cmd, const nlohmann::json& req) {
    if (cmd == "hook") {
        // The payload follows as one Bytes frame, raw as the agent wrote it.
        std::weak_ptr<Connection> weak = conn;
        conn->on_bytes = [this, weak, req](std::string_view bytes) {
            auto c = weak.lock();
            if (!c) return;
            // Clearing on_bytes destroys this closure: copy what it holds first.
            Hooks* self = this;
            nlohmann::json request = req;
            c->on_bytes = nullptr;
            self->on_payload(c, request, bytes);
        };
    } else if (cmd == "pending") {
        cmd_pending(conn, req);
    } else if (cmd == "approve" || cmd == "deny") {
        cmd_decide(conn, req, cmd == "approve");
    } else if (cmd == "notify") {
        cmd_notify(conn, req);
    } else if (cmd == "wait") {
        cmd_wait(conn, req);
    } else if (cmd == "ack") {
        cmd_ack(conn, req);
    } else {
        return false;
    }
    return true;
}

int64_t Hooks::session_for(const nlohmann::json& req, const std::string& agent, const nlohmann::json& payload) {
    const SessionsState& state = m_store.sessions();
    std::string ours = req.value("session", "");
    if (!ours.empty())
        if (const SessionRow* row = state.resolve(ours); row && row->live() && !row->external) return row->id;
    // An agent tether did not start: one external session per agent session id and cwd.
    std::string agent_session = str(payload, "session_id");
    std::string cwd = str(payload, "cwd");
    for (const auto& [id, row] : state.sessions)
        if (row.external && row.live() && row.agent == agent && row.agent_session == agent_session && row.cwd == cwd)
            return id;
    int64_t id = state.sessions.empty() ? 1 : state.sessions.rbegin()->first + 1;
    std::string base = std::filesystem::path(cwd).filename().string();
    std::string name = agent + "@" + (base.empty() ? "external" : base) + "-" + std::to_string(id);
    m_store.append(make_json_event(id, EventKind::SessionStarted,
                                   {{"name", name}, {"command", nlohmann::json::array()}, {"cwd", cwd}, {"agent", agent},
                                    {"external", true}, {"agent_session", agent_session}}));
    return id;
}

void Hooks::on_payload(const std::shared_ptr<Connection>& conn, const nlohmann::json& req, std::string_view bytes) {
    std::string agent = req.value("agent", "claude");
    long wait_ms = std::clamp<long>(req.value("wait_ms", 0L), 0L, k_max_wait_ms);
    auto payload = parse_json_bounded(bytes);
    if (payload.is_discarded() || !payload.is_object()) {
        // Keep what came (bounded), answer nothing: the agent must not notice.
        std::string raw(bytes.substr(0, k_malformed_keep));
        int64_t session = 0;
        if (const SessionRow* row = m_store.sessions().resolve(req.value("session", "")); row && row->live()) session = row->id;
        m_store.append(make_json_event(session, EventKind::HookReceived,
                                       {{"agent", agent}, {"malformed", true}, {"raw", raw}}));
        conn->send_bytes("");
        conn->finish();
        return;
    }
    int64_t session = session_for(req, agent, payload);
    const Event& hook =
        m_store.append(make_json_event(session, EventKind::HookReceived, {{"agent", agent}, {"payload", payload}}), /*urgent=*/true);
    int64_t hook_seq = hook.seq;
    std::string name = str(payload, "hook_event_name");
    if (name == "SessionEnd")
        if (const SessionRow* row = m_store.sessions().find(session); row && row->external)
            m_store.append(make_json_event(session, EventKind::SessionExited, {{"reason", "SessionEnd"}, {"external", true}}));
    if (name == "PermissionRequest" && wait_ms > 0) return ask_permission(conn, session, hook_seq, payload, wait_ms);
    if (name == "PreToolUse" && m_policy)
        if (const SessionRow* row = m_store.sessions().find(session))
            if (auto d = m_policy(*row, payload)) {
                // A rule that names the tool answers before any dialog would show.
                const Event& asked = m_store.append(make_json_event(
                    session, EventKind::PermissionRequested,
                    {{"hook", hook_seq}, {"tool", str(payload, "tool_name")},
                     {"tool_input", payload.value("tool_input", nlohmann::json::object())}, {"hook_event", "PreToolUse"}}));
                m_store.append(make_json_event(session, EventKind::PermissionDecided,
                                               {{"request", asked.seq}, {"decision", d->decision}, {"by", d->by},
                                                {"message", d->message}, {"latency_ms", 0}}),
                               /*urgent=*/true);
                conn->send_bytes(pre_tool_use_answer(*d));
                conn->finish();
                return;
            }
    // Acknowledged at once, before the commit: the hook path must stay fast, and the
    // agent does not depend on the answer (it fails open either way).
    conn->send_bytes("");
    conn->finish();
}

void Hooks::ask_permission(const std::shared_ptr<Connection>& conn, int64_t session, int64_t hook_seq,
                           const nlohmann::json& payload, long wait_ms) {
    auto p = std::make_unique<Pending>();
    p->session = session;
    p->hook = hook_seq;
    p->tool = str(payload, "tool_name");
    p->tool_input = payload.value("tool_input", nlohmann::json::object());
    p->payload = payload;
    p->conn = conn;
    p->started_us = now_us();
    const Event& asked = m_store.append(make_json_event(
        session, EventKind::PermissionRequested, {{"hook", hook_seq}, {"tool", p->tool}, {"tool_input", p->tool_input}}));
    int64_t request = asked.seq;
    if (m_policy) {
        if (const SessionRow* row = m_store.sessions().find(session))
            if (auto d = m_policy(*row, payload)) {
                m_pending[request] = std::move(p);
                resolve(request, *d);
                return;
            }
    }
    p->timeout = std::make_unique<Timer>(m_loop, [this, request] { resolve(request, {"ask", "", "timeout", false, ""}); });
    p->timeout->arm_ms(wait_ms);
    m_pending[request] = std::move(p);
    // Tells tether-hook to wait for the decision rather than for a quick acknowledgement.
    conn->send_json({{"id", 1}, {"waiting", true}, {"request", request}});
    conn->on_close = [this, request] {
        if (m_pending.count(request)) resolve(request, {"ask", "", "agent", false, ""});
    };
}

void Hooks::resolve(int64_t request, const PermissionDecision& d) {
    auto it = m_pending.find(request);
    if (it == m_pending.end()) return;
    std::unique_ptr<Pending> p = std::move(it->second);
    m_pending.erase(it);
    nlohmann::json fact{{"request", request}, {"decision", d.decision}, {"by", d.by},
                        {"latency_ms", (now_us() - p->started_us) / 1000}};
    if (!d.message.empty()) fact["message"] = d.message;
    if (d.always) fact["always"] = true;
    if (!d.notifier.empty()) fact["notifier"] = d.notifier;
    m_decided[request] = {d.decision, d.by, now_us()};
    if (m_decided.size() > k_decided_kept) m_decided.erase(m_decided.begin());
    m_store.append(make_json_event(p->session, EventKind::PermissionDecided, fact), /*urgent=*/true);
    if (auto conn = p->conn.lock()) {
        conn->on_close = nullptr;
        // "ask": no output, so the agent shows its own prompt, as without tether.
        conn->send_bytes(d.decision == "ask" ? std::string() : permission_answer(d, p->payload));
        conn->finish();
    }
}

Status Hooks::decide(int64_t request, const PermissionDecision& d) {
    if (m_pending.count(request)) {
        resolve(request, d);
        return {};
    }
    std::string r = "request " + std::to_string(request);
    if (auto it = m_decided.find(request); it != m_decided.end()) {
        const Decided& was = it->second;
        if (was.decision == "ask")
            return Error{r + " is not pending: nobody answered it through tether (" + was.by + ", " + clock_text(was.time_us) +
                         "); the agent asked in its own terminal"};
        return Error{r + " is not pending: it was already answered (" + was.decision + " by " + was.by + " at " +
                     clock_text(was.time_us) + ")"};
    }
    if (request > 0 && request <= m_started_after)
        return Error{r + " is gone: it was asked before tether restarted, and the agent then asked in its own terminal"};
    return Error{r + " is not pending (answered elsewhere, timed out, or the agent moved on)"};
}

nlohmann::json Hooks::always_offer(int64_t request) const {
    auto it = m_pending.find(request);
    if (it == m_pending.end()) return nullptr;
    auto s = it->second->payload.find("permission_suggestions");
    if (s == it->second->payload.end() || !s->is_array() || s->empty()) return nullptr;
    return (*s)[0];
}

int64_t Hooks::pending_request_for_hook(int64_t hook_seq) const {
    for (const auto& [id, p] : m_pending)
        if (p->hook == hook_seq) return id;
    return 0;
}

std::optional<nlohmann::json> Hooks::pending_entry(int64_t request) const {
    auto it = m_pending.find(request);
    if (it == m_pending.end()) return std::nullopt;
    const Pending& p = *it->second;
    const SessionRow* row = m_store.sessions().find(p.session);
    return nlohmann::json{{"request", request}, {"session", p.session}, {"name", row ? row->name : ""},
                          {"tool", p.tool}, {"tool_input", p.tool_input}, {"waiting_ms", (now_us() - p.started_us) / 1000}};
}

nlohmann::json Hooks::pending_json() const {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [id, p] : m_pending) list.push_back(*pending_entry(id));
    return list;
}

void Hooks::cmd_pending(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    conn->reply_ok(req, {{"pending", pending_json()}});
}

void Hooks::cmd_decide(const std::shared_ptr<Connection>& conn, const nlohmann::json& req, bool allow) {
    const char* verb = allow ? "approve" : "deny";
    nlohmann::json target = req.value("target", nlohmann::json());
    int64_t request = 0;
    if (target.is_number_integer() && m_pending.count(target.get<int64_t>())) {
        request = target.get<int64_t>();
    } else if (const SessionRow* row = m_store.sessions().resolve(target)) {
        for (const auto& [id, p] : m_pending)
            if (p->session == row->id) {
                if (request) return conn->reply_error(req, std::string(verb) + ": session " + row->name +
                                                               " has several pending requests; name one (tether pending)");
                request = id;
            }
        if (!request) return conn->reply_error(req, std::string(verb) + ": session " + row->name + " has no pending permission request");
    } else {
        return conn->reply_error(req, std::string(verb) + ": no pending request or session " + dump_json(target) +
                                          " (tether pending lists them)");
    }
    int64_t session = m_pending[request]->session;
    if (auto s = decide(request, {allow ? "allow" : "deny", req.value("message", ""), req.value("by", "cli"),
                                  allow && req.value("always", false), ""});
        !s)
        return conn->reply_error(req, std::string(verb) + ": " + s.error().message);
    conn->reply_ok(req, {{"request", request}, {"session", session}});
}

void Hooks::cmd_notify(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    std::string state = req.value("state", "");
    if (state != "needs_answer" && state != "needs_permission" && state != "idle" && state != "running")
        return conn->reply_error(req, "notify: state must be needs_answer, needs_permission, idle or running, not \"" + state + "\"");
    const SessionRow* row = m_store.sessions().resolve(req.value("session", nlohmann::json()));
    if (!row) return conn->reply_error(req, "notify: no such session (give --session, or run inside a tether session)");
    if (!row->live()) return conn->reply_error(req, "notify: session " + row->name + " has ended");
    nlohmann::json fact{{"state", state}};
    if (req.contains("message") && req["message"].is_string()) fact["message"] = req["message"];
    m_store.append(make_json_event(row->id, EventKind::AgentNotified, fact), /*urgent=*/true);
    std::weak_ptr<Connection> weak = conn;
    m_store.when_durable([weak, req] {
        if (auto c = weak.lock()) c->reply_ok(req);
    });
}

void Hooks::cmd_ack(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    const SessionRow* row = m_store.sessions().resolve(req.value("session", nlohmann::json()));
    if (!row) return conn->reply_error(req, "ack: no such session: " + dump_json(req.value("session", nlohmann::json())));
    m_store.append(make_json_event(row->id, EventKind::Acknowledged, {{"by", req.value("by", "cli")}}));
    std::weak_ptr<Connection> weak = conn;
    m_store.when_durable([weak, req] {
        if (auto c = weak.lock()) c->reply_ok(req);
    });
}

void Hooks::cmd_wait(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    std::string until = req.value("until", "");
    static const char* k_states[] = {"starting", "running", "needs_permission", "needs_answer", "idle", "exited"};
    if (std::find(std::begin(k_states), std::end(k_states), until) == std::end(k_states))
        return conn->reply_error(req, "wait: unknown state \"" + until + "\"");
    const SessionRow* row = m_store.sessions().resolve(req.value("session", nlohmann::json()));
    if (!row) return conn->reply_error(req, "wait: no such session: " + dump_json(req.value("session", nlohmann::json())));
    std::weak_ptr<Connection> weak = conn;
    uint64_t cid = conn->id();
    std::string name = row->name;
    auto token = m_tracker.wait_for(row->id, until, [this, weak, req, until, name, cid](const std::string& state, bool final) {
        m_waits.erase(cid);
        auto c = weak.lock();
        if (!c) return;
        if (final) c->reply_error(req, "wait: session " + name + " ended (" + state + ") before it was " + until);
        else c->reply_ok(req, {{"state", state}});
    });
    if (token) {
        m_waits[cid] = token;
        conn->on_close = [this, cid] { m_waits.erase(cid); };
    }
}

}  // namespace tether
