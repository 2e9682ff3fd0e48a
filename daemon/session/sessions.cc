// Session commands and lifecycle.
#include "session/sessions.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "agent/claude_settings.h"
#include "base/log.h"
#include "base/text.h"
#include "base/paths.h"
#include "wire/protocol.h"
#include "terminal/screen_cells.h"

namespace tether {

namespace {

constexpr int k_max_dimension = 1000;
constexpr size_t k_kept_exited = 32;

bool valid_size(int cols, int rows) {
    return cols >= 1 && rows >= 1 && cols <= k_max_dimension && rows <= k_max_dimension;
}


// The SessionAdopted fact: who holds the session, how long the daemon was away, and how
// much output waited in the holder beyond what the log has (from `offset` on).
nlohmann::json adoption_fact(const HolderHello& hello, uint64_t offset) {
    return {{"holder_pid", hello.holder_pid},  {"pid", hello.agent_pid},
            {"down_from_us", hello.disconnected_us}, {"down_to_us", now_us()},
            {"buffered", hello.produced - offset}, {"exited", hello.exited},
            {"holder_version", hello.version}};
}

// The directory of the running binary: tether-hook is installed beside tetherd.
std::string binary_dir() {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : self.parent_path().string();
}

}  // namespace

std::string recognise_agent(const std::vector<std::string>& argv) {
    if (argv.empty()) return "";
    std::string base = std::filesystem::path(argv[0]).filename().string();
    for (const char* agent : {"claude", "codex", "aider", "gemini"})
        if (base == agent) return agent;
    return "";
}

std::optional<int> parse_signal(const std::string& name) {
    if (name.empty()) return std::nullopt;
    if (std::all_of(name.begin(), name.end(), ::isdigit)) {
        int n = std::stoi(name);
        return n > 0 && n < NSIG ? std::optional<int>(n) : std::nullopt;
    }
    std::string upper;
    for (char c : name) upper.push_back(static_cast<char>(::toupper(static_cast<unsigned char>(c))));
    if (has_prefix(upper, "SIG")) upper = upper.substr(3);
    static const std::pair<const char*, int> k_names[] = {
        {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL}, {"TERM", SIGTERM},
        {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"WINCH", SIGWINCH}};
    for (auto& [n, v] : k_names)
        if (upper == n) return v;
    return std::nullopt;
}

Sessions::Sessions(EventLoop& loop, Store& store, SessionLimits limits, ScreenFollowerOptions screen,
                   std::string detach_key, std::string socket_path, std::string log_path, std::string state_dir)
    : m_loop(loop), m_store(store), m_limits(limits), m_detach_key(std::move(detach_key)),
      m_socket_path(std::move(socket_path)),
      m_follower(loop, std::move(log_path), screen), m_state_dir(std::move(state_dir)),
      m_holders_dir(holders_dir_for(m_socket_path)) {
    m_follower.set_prompt_listener([this](int64_t session, const std::string& prompt, const std::string& text) {
        auto it = m_sessions.find(session);
        if (it == m_sessions.end() || it->second->exited()) return;
        m_store.append(make_json_event(session, EventKind::ScreenPromptSeen, {{"prompt", prompt}, {"text", text}}));
    });
    store.add_drain_listener([this] {
        for (auto& [id, s] : m_sessions) s->resume_reading();
    });
}

Sessions::~Sessions() {
    // Sessions first: their pending screen callbacks are dropped by their liveness token.
    m_sessions.clear();
}

Status Sessions::adopt_holders() {
    if (auto s = ensure_private_dir(m_holders_dir); !s) return Error{"holders directory: " + s.error().message};
    auto sockets = list_holder_sockets(m_holders_dir);
    if (!sockets) return sockets.error();
    for (const auto& [id, path] : *sockets) (void)try_adopt(id, path);
    for (const auto& [id, row] : m_store.sessions().sessions) {
        // External sessions have no PTY here: their agent runs on without us.
        if (!row.live() || row.external || m_sessions.count(id)) continue;
        m_store.append(make_json_event(
            id, EventKind::SessionExited,
            {{"lost", true}, {"reason", "its holder process is gone; the session's end was not seen"}}));
    }
    return {};
}

Status Sessions::try_adopt(int64_t id, const std::string& path) {
    std::error_code ec;
    auto link = HolderLink::connect(path, 2000);
    if (!link) {
        // Nobody listens: the holder died (and its PTY with it). Its session, if live,
        // is closed by the caller; the socket file is only debris.
        log_warn("holder of session " + std::to_string(id) + " does not answer (" + link.error().message +
                 "); removing its socket");
        std::filesystem::remove(path, ec);
        return link.error();
    }
    const HolderHello& hello = (*link)->hello();
    const SessionRow* row = m_store.sessions().find(hello.session);
    std::string why;
    if (!std::filesystem::equivalent(hello.state_dir, m_state_dir, ec)) why = "it belongs to the state directory " + hello.state_dir;
    else if (hello.session != id) why = "it says it holds session " + std::to_string(hello.session);
    else if (!row) why = "the event log has no session " + std::to_string(id);
    else if (!row->live() || row->external) why = "the log says session " + std::to_string(id) + " has ended";
    else if (m_sessions.count(id)) why = "session " + std::to_string(id) + " is already adopted";
    else if (static_cast<uint64_t>(row->bytes_out) < hello.acked || static_cast<uint64_t>(row->bytes_out) > hello.produced)
        why = "the log holds " + std::to_string(row->bytes_out) + " output bytes but the holder has " +
              std::to_string(hello.acked) + " to " + std::to_string(hello.produced);
    if (why.empty())
        if (auto s = adopt(id, std::move(*link)); !s) why = s.error().message;
    if (why.empty()) {
        std::erase_if(m_orphans, [id](const nlohmann::json& o) { return o.value("session", int64_t(0)) == id; });
        return {};
    }
    report_orphan(path, hello, why);
    return Error{why};
}

int64_t Sessions::next_session_id() const {
    int64_t id = 1;
    if (!m_store.sessions().sessions.empty()) id = m_store.sessions().sessions.rbegin()->first + 1;
    // An orphaned holder (a session this log never recorded) keeps its socket until
    // `tether doctor --end`: never take its id, or its socket path, from it.
    std::error_code ec;
    while (std::filesystem::exists(holder_socket_path(m_holders_dir, id), ec)) ++id;
    return id;
}

Result<int64_t> Sessions::adopt_orphan(int64_t session) {
    auto it = m_sessions.find(session);
    if (it != m_sessions.end() && !it->second->exited()) return Error{"session " + std::to_string(session) + " is already adopted"};
    const std::string path = holder_socket_path(m_holders_dir, session);
    const SessionRow* row = m_store.sessions().find(session);
    if (row && row->live() && !row->external) {
        if (auto s = try_adopt(session, path); !s) return s.error();
        return session;
    }
    // A holder of a session this log does not have (its state was lost) or has closed:
    // its program becomes a new session here, from the first byte no daemon confirmed.
    auto link = HolderLink::connect(path, 2000);
    if (!link) return link.error();
    const HolderHello old = (*link)->hello();
    if (old.session != session) return Error{"the holder at " + path + " says it holds session " + std::to_string(old.session)};
    int64_t id = next_session_id();
    (*link)->rebind(id, m_state_dir, holder_socket_path(m_holders_dir, id));
    std::string agent = recognise_agent(old.argv);
    std::string name = (old.argv.empty() ? std::string("session") : std::filesystem::path(old.argv[0]).filename().string()) +
                       "-" + std::to_string(id);
    int cols = old.cols > 0 ? old.cols : 80, rows = old.rows > 0 ? old.rows : 24;
    const Event& started = m_store.append(make_json_event(
        id, EventKind::SessionStarted,
        {{"name", name}, {"command", old.argv}, {"cwd", old.cwd}, {"agent", agent}, {"cols", cols}, {"rows", rows},
         {"pid", old.agent_pid}, {"holder_pid", old.holder_pid},
         {"adopted_from", {{"session", old.session}, {"state_dir", old.state_dir}}}}));
    m_follower.add_session(id, cols, rows, started.seq, agent == "claude");
    nlohmann::json fact = adoption_fact(old, old.acked);
    fact["from_session"] = old.session;
    m_store.append(make_json_event(id, EventKind::SessionAdopted, fact));
    m_sessions[id] = std::make_unique<Session>(m_loop, m_store, m_follower, m_limits, id, std::move(*link), cols, rows, 0);
    std::erase_if(m_orphans, [&](const nlohmann::json& o) { return o.value("socket", "") == path; });
    log_info("adopted the orphaned holder " + std::to_string(old.holder_pid) + " (session " + std::to_string(old.session) +
             " of " + old.state_dir + ") as session " + std::to_string(id));
    return id;
}

Status Sessions::adopt(int64_t id, std::unique_ptr<HolderLink> link) {
    const SessionRow* row = m_store.sessions().find(id);
    // The screen starts as the session started and replays its output from the log.
    auto cursor = m_store.log().read(EventQuery{.session = id});
    if (!cursor) return cursor.error();
    auto first = cursor->next();
    if (!first) return first.error();
    if (!*first || (*first)->kind != EventKind::SessionStarted) return Error{"the log has no start for session " + std::to_string(id)};
    const Event started = std::move(**first);
    auto fact = started.json();
    const HolderHello hello = link->hello();
    uint64_t offset = static_cast<uint64_t>(row->bytes_out);
    m_follower.add_session(id, fact.value("cols", 80), fact.value("rows", 24), started.seq, row->agent == "claude",
                           m_store.log().last_seq());
    int cols = hello.cols > 0 ? hello.cols : row->cols, rows = hello.rows > 0 ? hello.rows : row->rows;
    m_store.append(make_json_event(id, EventKind::SessionAdopted, adoption_fact(hello, offset)));
    m_sessions[id] = std::make_unique<Session>(m_loop, m_store, m_follower, m_limits, id, std::move(link), cols, rows, offset);
    if (m_on_adopted) m_on_adopted(id);  // before the adoption commits
    log_info("adopted session " + std::to_string(id) + " (" + row->name + ") from holder " + std::to_string(hello.holder_pid) +
             ": " + std::to_string(hello.produced - offset) + " bytes of output waited for us");
    return {};
}

void Sessions::report_orphan(const std::string& socket, const HolderHello& hello, const std::string& why) {
    std::erase_if(m_orphans, [&](const nlohmann::json& o) { return o.value("socket", "") == socket; });
    log_warn("holder " + std::to_string(hello.holder_pid) + " at " + socket + " is not adopted: " + why +
             " (tether doctor lists it; its program keeps running)");
    nlohmann::json o{{"socket", socket},
                     {"session", hello.session},
                     {"holder_pid", hello.holder_pid},
                     {"pid", hello.agent_pid},
                     {"state_dir", hello.state_dir},
                     {"exited", hello.exited},
                     {"reason", why}};
    m_store.append(make_json_event(0, EventKind::HolderOrphaned, o));
    m_orphans.push_back(o);
}

pid_t Sessions::holder_pid(int64_t session) const {
    auto it = m_sessions.find(session);
    return it == m_sessions.end() || it->second->exited() ? 0 : it->second->holder_pid();
}

void Sessions::on_committed(const Event& ev) {
    if (ev.session == 0) return;
    auto it = m_sessions.find(ev.session);
    if (it == m_sessions.end()) return;
    if (ev.kind == EventKind::SessionPruned) {  // retention: its screen goes with its log
        m_sessions.erase(it);
        m_follower.remove_session(ev.session);
        return;
    }
    if (ev.kind == EventKind::OutputChunk || ev.kind == EventKind::Resized || ev.kind == EventKind::SessionExited)
        m_follower.committed(ev);
    it->second->on_committed(ev);
    if (ev.kind == EventKind::SessionExited) evict_exited();
}

void Sessions::evict_exited() {
    // Keep the screens of the most recently exited sessions; forget older ones.
    std::vector<int64_t> exited;
    for (auto& [id, s] : m_sessions)
        if (s->exited()) exited.push_back(id);
    for (size_t i = 0; i + k_kept_exited < exited.size(); ++i) {
        m_sessions.erase(exited[i]);
        m_follower.remove_session(exited[i]);
    }
}

const SessionRow* Sessions::lookup(const nlohmann::json& ref) const { return m_store.sessions().resolve(ref); }

Session* Sessions::live(const std::shared_ptr<Connection>& conn, const nlohmann::json& req, const char* what) {
    nlohmann::json ref = req.value("session", nlohmann::json());
    const SessionRow* row = lookup(ref);
    if (!row) {
        conn->reply_error(req, std::string(what) + ": no such session: " +
                                   (ref.is_string() ? ref.get<std::string>() : dump_json(ref)));
        return nullptr;
    }
    auto it = m_sessions.find(row->id);
    if (!row->live() || it == m_sessions.end() || it->second->exited()) {
        std::string end = row->exit_code ? "exited with code " + std::to_string(*row->exit_code)
                          : row->exit_signal ? "was killed by signal " + std::to_string(*row->exit_signal)
                          : row->state == session_state::failed ? "failed to start: " + row->error
                                                                : "has ended";
        conn->reply_error(req, std::string(what) + ": session " + std::to_string(row->id) + " (" + row->name + ") " + end);
        return nullptr;
    }
    return it->second.get();
}

bool Sessions::handle(const std::shared_ptr<Connection>& conn, const std::string& cmd, const nlohmann::json& req) {
    if (cmd == "run") cmd_run(conn, req);
    else if (cmd == "attach") cmd_attach(conn, req);
    else if (cmd == "detach") cmd_detach(conn, req);
    else if (cmd == "resize") cmd_resize(conn, req);
    else if (cmd == "send") cmd_send(conn, req);
    else if (cmd == "kill") cmd_kill(conn, req);
    else if (cmd == "screen" && screen_in_memory(req)) cmd_screen(conn, req);
    else return false;
    return true;
}

void Sessions::cmd_run(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    // Its start could not be recorded, so it could not be adopted or replayed: refuse.
    if (const StoreHealth& h = m_store.health(); !h.ok())
        return conn->reply_error(req, "run: the event log cannot be written (" + h.error +
                                          "); free space in the state directory or make it writable, then run again");
    std::vector<std::string> argv, env;
    for (const char* key : {"argv", "env"}) {
        const auto& arr = req.value(key, nlohmann::json::array());
        if (!arr.is_array()) return conn->reply_error(req, std::string("run: \"") + key + "\" must be an array");
        for (const auto& a : arr) {
            if (!a.is_string()) return conn->reply_error(req, std::string("run: \"") + key + "\" must hold strings");
            (key[0] == 'a' ? argv : env).push_back(a.get<std::string>());
        }
    }
    if (argv.empty() || argv[0].empty()) return conn->reply_error(req, "run: no command given");
    int cols = req.value("cols", 80), rows = req.value("rows", 24);
    if (!valid_size(cols, rows))
        return conn->reply_error(req, "run: invalid size " + std::to_string(cols) + "x" + std::to_string(rows) +
                                          " (columns and rows must be 1 to " + std::to_string(k_max_dimension) + ")");
    std::string cwd = req.value("cwd", "");
    std::string name = req.value("name", "");
    // The caller's umask, so that the program creates files as it would outside tether
    // (the daemon's own is 077).
    int umask_value = req.value("umask", -1);
    if (umask_value < -1 || umask_value > 0777) return conn->reply_error(req, "run: invalid umask " + std::to_string(umask_value));
    std::string agent = recognise_agent(argv);

    int64_t id = next_session_id();
    if (name.empty()) name = std::filesystem::path(argv[0]).filename().string() + "-" + std::to_string(id);
    if (const SessionRow* other = m_store.sessions().find_by_name(name); other && other->live())
        return conn->reply_error(req, "run: a live session is already named \"" + name + "\" (id " +
                                          std::to_string(other->id) + ")");

    std::erase_if(env, [](const std::string& kv) {
        return has_prefix(kv, "TERM=") || has_prefix(kv, "TETHER_SESSION=") || has_prefix(kv, "TETHER_SOCKET=");
    });
    env.push_back("TERM=xterm-256color");
    env.push_back("TETHER_SESSION=" + std::to_string(id));
    env.push_back("TETHER_SOCKET=" + m_socket_path);

    nlohmann::json fact{{"name", name}, {"command", argv}, {"cwd", cwd}, {"agent", agent}, {"cols", cols}, {"rows", rows}};
    if (agent == "claude" && req.value("hooks", true)) {
        // Hooks for this process only: the user's settings files stay untouched, and
        // Claude Code merges hook entries across settings levels (agent-hooks.md 0.2).
        std::string hook = binary_dir() + "/tether-hook --agent claude";
        argv.insert(argv.begin() + 1, {"--settings", dump_json(claude_hook_settings(hook, m_limits.permission_wait_s))});
    } else if (agent == "aider" && req.value("hooks", true)) {
        // Aider pings once per wait, with no payload (agent-hooks.md 3.3): a "needs you".
        argv.insert(argv.begin() + 1, {"--notifications", "--notifications-command",
                                       binary_dir() + "/tether notify --state idle --message 'Aider is waiting for your input'"});
    }
    auto link = HolderLink::start(HolderStart{.session = id,
                                              .holder_binary = binary_dir() + "/tether-holder",
                                              .socket_path = holder_socket_path(m_holders_dir, id),
                                              .state_dir = m_state_dir,
                                              .window = m_limits.holder_window,
                                              .spawn = SpawnRequest{.argv = argv, .env = env, .cwd = cwd, .cols = cols, .rows = rows,
                                                                    .umask = umask_value}});
    if (!link) {
        fact["error"] = link.error().message;
        m_store.append(make_json_event(id, EventKind::SessionSpawnFailed, fact));
        return conn->reply_error(req, "run: cannot start " + argv[0] + ": " + link.error().message);
    }
    fact["pid"] = (*link)->agent_pid();
    fact["holder_pid"] = (*link)->holder_pid();
    const Event& started = m_store.append(make_json_event(id, EventKind::SessionStarted, fact));
    m_follower.add_session(id, cols, rows, started.seq, /*watch_prompts=*/agent == "claude");
    m_sessions[id] = std::make_unique<Session>(m_loop, m_store, m_follower, m_limits, id, std::move(*link), cols, rows, 0);
    std::weak_ptr<Connection> weak = conn;
    m_store.when_durable([weak, req, id, name, pid = fact["pid"]] {
        if (auto c = weak.lock()) c->reply_ok(req, {{"session", id}, {"name", name}, {"pid", pid}});
    });
}

void Sessions::cmd_attach(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    if (conn->attached_session) return conn->reply_error(req, "attach: this connection is already attached");
    Session* s = live(conn, req, "attach");
    if (!s) return;
    int cols = req.value("cols", s->cols()), rows = req.value("rows", s->rows());
    if (!valid_size(cols, rows))
        return conn->reply_error(req, "attach: invalid size " + std::to_string(cols) + "x" + std::to_string(rows));
    bool read_only = req.value("read_only", false);
    // The newest attach sets the size (a read-only viewer does not).
    if (!read_only)
        if (auto st = s->resize(cols, rows); !st) return conn->reply_error(req, "attach: " + st.error().message);
    size_t history = std::min<size_t>(req.value("history", m_limits.attach_history_lines), m_limits.attach_history_lines);
    int64_t id = s->id();
    s->attach(conn, read_only, history, [conn, req, id, key = m_detach_key](const Screen& screen) {
        conn->reply_ok(req, {{"session", id}, {"cols", screen.cols()}, {"rows", screen.rows()}, {"detach_key", key}});
    });
    m_store.append(make_json_event(id, EventKind::ClientAttached,
                                   {{"client", conn->id()}, {"read_only", read_only}, {"cols", cols}, {"rows", rows}}));
    // Looking at the session is the acknowledgement that cancels pending escalations.
    m_store.append(make_json_event(id, EventKind::Acknowledged, {{"by", "attach"}}));
}

void Sessions::cmd_detach(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    if (conn->attached_session && !req.contains("session")) {
        // The attached client itself asks to leave: it gets the mode resets, then EOF.
        auto it = m_sessions.find(conn->attached_session);
        if (it != m_sessions.end()) it->second->detach_client(conn, "detach key");
        return;
    }
    Session* s = live(conn, req, "detach");
    if (!s) return;
    size_t n = s->client_count();
    s->detach_all("detached by tether detach");
    conn->reply_ok(req, {{"detached", n}});
}

void Sessions::cmd_resize(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    int cols = req.value("cols", 0), rows = req.value("rows", 0);
    if (!valid_size(cols, rows))
        return conn->reply_error(req, "resize: invalid size " + std::to_string(cols) + "x" + std::to_string(rows));
    Session* s = nullptr;
    if (conn->attached_session && !req.contains("session")) {
        auto found = m_sessions.find(conn->attached_session);
        if (found != m_sessions.end() && !found->second->exited()) s = found->second.get();
        if (!s) return;
    } else {
        s = live(conn, req, "resize");
        if (!s) return;
    }
    if (auto st = s->resize(cols, rows); !st) return conn->reply_error(req, "resize: " + st.error().message);
    if (req.contains("id")) conn->reply_ok(req);
}

void Sessions::cmd_send(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    Session* s = live(conn, req, "send");
    if (!s) return;
    if (!req.contains("data") || !req["data"].is_string()) return conn->reply_error(req, "send: \"data\" must be a string");
    std::string data = req["data"].get<std::string>();
    bool enter = req.value("enter", false);
    if (data.empty() && !enter) return conn->reply_error(req, "send: nothing to send");
    s->write_input(std::move(data));
    std::weak_ptr<Connection> weak = conn;
    auto reply = [this, weak, req] {
        m_store.when_durable([weak, req] {
            if (auto c = weak.lock()) c->reply_ok(req);
        });
    };
    if (enter)
        s->write_enter_later(reply);
    else
        reply();
}

void Sessions::cmd_kill(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    std::string name = req.value("signal", "TERM");
    auto sig = parse_signal(name);
    if (!sig) return conn->reply_error(req, "kill: unknown signal \"" + name + "\"");
    Session* s = live(conn, req, "kill");
    if (!s) return;
    if (auto st = s->signal(*sig); !st) return conn->reply_error(req, "kill: " + st.error().message);
    conn->reply_ok(req, {{"session", s->id()}, {"signal", *sig}});
}

// A moment in the past, or a session this daemon does not hold, is for the recordings.
bool Sessions::screen_in_memory(const nlohmann::json& req) const {
    for (const char* moment : {"seq", "at_us", "at_offset_us"})
        if (req.contains(moment)) return false;
    const SessionRow* row = lookup(req.value("session", nlohmann::json()));
    return !row || m_sessions.count(row->id) > 0;
}

void Sessions::cmd_screen(const std::shared_ptr<Connection>& conn, const nlohmann::json& req) {
    const SessionRow* row = lookup(req.value("session", nlohmann::json()));
    if (!row) return conn->reply_error(req, "screen: no such session: " + dump_json(req.value("session", nlohmann::json())));
    auto it = m_sessions.find(row->id);
    if (it == m_sessions.end())
        return conn->reply_error(req, "screen: session " + std::to_string(row->id) +
                                          " ended before this daemon started; its screen is not in memory");
    bool ansi = req.value("ansi", false), cells = req.value("cells", false);
    int64_t id = row->id;
    std::weak_ptr<Connection> weak = conn;
    it->second->with_current_screen([weak, req, ansi, cells, id](const Screen& screen, int64_t seq) {
        auto conn = weak.lock();
        if (!conn) return;
        nlohmann::json body{{"session", id}, {"seq", seq}, {"cols", screen.cols()}, {"rows", screen.rows()},
                            {"cursor_row", screen.cursor_row()}, {"cursor_col", screen.cursor_col()},
                            {"cursor_visible", screen.cursor_visible()},
                            {"alt_screen", screen.alt_screen()}, {"title", screen.title()}};
        if (cells) {
            body["cells"] = screen_cells_json(screen);
            if (dump_json(body).size() + 64 > k_max_frame_body)
                return conn->reply_error(req, "screen: the cells of session " + std::to_string(id) +
                                                  " do not fit in one frame; ask for the text instead");
        } else {
            body["screen"] = ansi ? screen.render_screen() : screen.text();
        }
        conn->reply_ok(req, body);
    });
}

bool Sessions::attached(int64_t session) {
    auto it = m_sessions.find(session);
    return it != m_sessions.end() && it->second->client_count() > 0;
}

size_t Sessions::live_count() const {
    size_t n = 0;
    for (const auto& [id, s] : m_sessions) n += !s->exited();
    return n;
}

void Sessions::end_all(std::function<void()> done) {
    for (auto& [id, s] : m_sessions)
        if (!s->exited()) (void)s->signal(SIGHUP);
    auto started = std::chrono::steady_clock::now();
    auto killed = std::make_shared<bool>(false);
    m_ending = std::make_unique<Timer>(m_loop, [this, started, killed, done = std::move(done)] {
        auto waited = std::chrono::steady_clock::now() - started;
        if (live_count() == 0 || waited > std::chrono::seconds(6)) return done();
        if (!*killed && waited > std::chrono::seconds(3)) {
            *killed = true;
            for (auto& [id, s] : m_sessions)
                if (!s->exited()) (void)s->signal(SIGKILL);
        }
        m_ending->arm_ms(20);
    });
    m_ending->arm_ms(20);
}

void Sessions::shutdown() {
    // The programs run on in their holders; the next daemon adopts them.
    for (auto& [id, s] : m_sessions) s->shutdown();
}

}  // namespace tether
