// Session: PTY drain, input, screen follower, attached clients.
#include "session.h"

#include <signal.h>
#include <unistd.h>

#include "log.h"

namespace tether {

namespace {
constexpr size_t k_client_output_limit = 64u << 20;
constexpr long k_enter_delay_ms = 50;
}  // namespace

Session::Session(EventLoop& loop, Store& store, const SessionLimits& limits, int64_t id,
                 std::unique_ptr<PtyProcess> pty, int cols, int rows)
    : m_loop(loop), m_store(store), m_limits(limits), m_id(id), m_pty(std::move(pty)), m_cols(cols), m_rows(rows),
      m_read_watcher(loop, m_pty->master_fd(), FdWatcher::Read, [this] { on_readable(); }),
      m_write_watcher(loop, m_pty->master_fd(), FdWatcher::Write, [this] { on_writable(); }),
      m_coalesce_timer(loop, [this] { flush_output(); }),
      m_enter_timer(loop, [this] {
          auto pending = std::move(m_pending_enters);
          m_pending_enters.clear();
          for (auto& done : pending) {
              write_input("\r", "enter");
              if (done) done();
          }
      }),
      m_screen_task(loop, [this] { feed_screen_slice(); }),
      m_screen(std::make_unique<Screen>(cols, rows, limits.history_lines)) {
    m_last_committed_seq = store.log().last_seq();
    m_screen_fed_seq = m_last_committed_seq;
    m_read_watcher.enable();
}

Session::~Session() {
    for (auto& c : m_clients)
        if (auto conn = c.conn.lock()) {
            conn->on_bytes = nullptr;
            conn->on_drained = nullptr;
            conn->on_close = nullptr;
            conn->finish();
        }
}

// ---- output path: PTY -> log ------------------------------------------------------

void Session::on_readable() {
    size_t total = 0;
    const int fd = m_pty->master_fd();
    while (total < m_limits.read_slice && m_output_open) {
        size_t old = m_out.size();
        size_t room = m_limits.chunk_bytes - old;
        m_out.resize(old + room);
        ssize_t n = read(fd, m_out.data() + old, room);
        m_out.resize(old + (n > 0 ? static_cast<size_t>(n) : 0));
        if (n > 0) {
            total += static_cast<size_t>(n);
            if (m_out.size() >= m_limits.chunk_bytes) flush_output();
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        // EIO once every writer of the slave has gone: the end of output.
        end_of_output();
        return;
    }
    if (!m_out.empty() && !m_coalesce_timer.armed()) m_coalesce_timer.arm_ms(m_limits.coalesce_ms);
    update_reading();
}

void Session::flush_output() {
    m_coalesce_timer.cancel();
    if (m_out.empty()) return;
    std::string bytes;
    bytes.swap(m_out);
    m_out.reserve(m_limits.chunk_bytes);
    // The chunk is in the log before anything derived from it.
    m_store.append(make_bytes_event(m_id, EventKind::OutputChunk, bytes));
    record_signals(bytes);
}

void Session::record_signals(std::string_view bytes) {
    m_signal_scratch.clear();
    m_signals.scan(bytes, m_signal_scratch);
    for (const auto& s : m_signal_scratch) {
        switch (s.kind) {
        case TerminalSignal::Title:
            if (s.text == m_last_title) break;
            m_last_title = s.text;
            m_store.append(make_json_event(m_id, EventKind::TitleChanged, {{"title", s.text}}));
            break;
        case TerminalSignal::Bell:
            m_store.append(make_json_event(m_id, EventKind::BellRang, nlohmann::json::object()));
            break;
        case TerminalSignal::Notification:
            m_store.append(make_json_event(m_id, EventKind::TerminalNotified, {{"message", s.text}}));
            break;
        }
    }
}

bool Session::should_pause() const {
    if (m_store.backlogged()) return true;
    for (const auto& c : m_clients)
        if (auto conn = c.conn.lock(); conn && conn->output_pending() > m_limits.client_high_water) return true;
    return false;
}

void Session::update_reading() {
    if (!m_output_open) return;
    if (should_pause())
        m_read_watcher.disable();
    else
        m_read_watcher.enable();
}

void Session::end_of_output() {
    flush_output();
    m_output_open = false;
    m_read_watcher.disable();
    poll_exit();
}

void Session::poll_exit() {
    if (!m_exit) m_exit = m_pty->try_reap();
    if (!m_exit || m_exit_recorded) return;
    // Take what the program wrote before it died; a grandchild may keep the slave open,
    // so do not wait for EIO: later output is still logged, after the exit.
    if (m_output_open) on_readable();
    maybe_record_exit();
}

void Session::maybe_record_exit() {
    if (!m_exit || m_exit_recorded) return;
    flush_output();
    nlohmann::json j;
    if (m_exit->signaled) {
        j["signal"] = m_exit->code;
        j["core_dumped"] = m_exit->core_dumped;
    } else {
        j["code"] = m_exit->code;
    }
    m_store.append(make_json_event(m_id, EventKind::SessionExited, j));
    m_exit_recorded = true;
    m_write_watcher.disable();
    m_input.clear();
}

// ---- input path --------------------------------------------------------------------

void Session::write_input(std::string bytes, const char* from) {
    (void)from;
    if (bytes.empty() || m_exit_recorded) return;
    m_store.append(make_bytes_event(m_id, EventKind::InputSent, bytes));
    m_input.push_back(std::move(bytes));
    m_write_watcher.enable();
}

void Session::write_enter_later(std::function<void()> done) {
    m_pending_enters.push_back(std::move(done));
    if (!m_enter_timer.armed()) m_enter_timer.arm_ms(k_enter_delay_ms);
}

void Session::on_writable() {
    const int fd = m_pty->master_fd();
    while (!m_input.empty()) {
        const std::string& front = m_input.front();
        ssize_t n = write(fd, front.data() + m_input_offset, front.size() - m_input_offset);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0) {
            // The terminal is gone (EIO): the program cannot read input any more.
            m_input.clear();
            m_input_offset = 0;
            break;
        }
        m_input_offset += static_cast<size_t>(n);
        if (m_input_offset == front.size()) {
            m_input.pop_front();
            m_input_offset = 0;
        }
    }
    m_write_watcher.disable();
}

Status Session::resize(int cols, int rows) {
    if (cols == m_cols && rows == m_rows) return {};
    if (auto s = m_pty->resize(cols, rows); !s) return s;
    m_cols = cols;
    m_rows = rows;
    flush_output();  // output so far was written for the old size
    m_store.append(make_json_event(m_id, EventKind::Resized, {{"cols", cols}, {"rows", rows}}));
    return {};
}

Status Session::signal(int sig) {
    if (m_exit_recorded) return Error{"session " + std::to_string(m_id) + " has already exited"};
    return m_pty->signal(sig);
}

// ---- the screen follows the log ----------------------------------------------------

void Session::on_committed(const Event& ev) {
    switch (ev.kind) {
    case EventKind::OutputChunk:
    case EventKind::Resized:
        m_last_committed_seq = ev.seq;
        if (!m_screen_from_log) {
            m_screen_queue_bytes += ev.payload.size();
            m_screen_queue.push_back(ev);
            if (m_screen_queue_bytes > m_limits.screen_queue_bytes) {
                // The parser is far behind: stop holding copies and re-read the log later.
                m_screen_queue.clear();
                m_screen_queue_bytes = 0;
                m_screen_from_log = true;
            }
        }
        m_screen_task.schedule();
        if (ev.kind == EventKind::OutputChunk) send_to_clients(ev);
        break;
    case EventKind::SessionExited: {
        // Inside a commit: no flush here, but all earlier output is already queued.
        catch_up_screen();
        nlohmann::json notice{{"event", "exited"}};
        auto j = ev.json();
        for (const char* k : {"code", "signal"})
            if (j.contains(k)) notice[k] = j[k];
        finish_clients(notice);
        break;
    }
    default:
        break;
    }
}

bool Session::screen_caught_up() const { return m_screen_fed_seq >= m_last_committed_seq; }

void Session::feed_screen_slice() {
    auto apply = [this](const Event& ev) {
        if (ev.kind == EventKind::OutputChunk) {
            m_screen->feed(ev.payload);
            (void)m_screen->take_replies();  // queries are answered by an attached terminal
        } else if (ev.kind == EventKind::Resized) {
            auto j = ev.json();
            m_screen->resize(j.value("cols", m_screen->cols()), j.value("rows", m_screen->rows()));
        }
        m_screen_fed_seq = ev.seq;
    };
    size_t budget = m_limits.screen_slice;
    if (!m_screen_from_log) {
        while (!m_screen_queue.empty() && budget > 0) {
            Event ev = std::move(m_screen_queue.front());
            m_screen_queue.pop_front();
            m_screen_queue_bytes -= ev.payload.size();
            budget -= std::min(budget, ev.payload.size());
            apply(ev);
        }
    } else {
        auto cursor = m_store.log().read(
            EventQuery{.session = m_id, .from_seq = m_screen_fed_seq + 1, .to_seq = m_last_committed_seq});
        if (!cursor) {
            log_error("session " + std::to_string(m_id) + ": screen cannot read the log: " + cursor.error().message);
            return;
        }
        while (budget > 0) {
            auto ev = cursor->next();
            if (!ev) {
                log_error("session " + std::to_string(m_id) + ": screen cannot read the log: " + ev.error().message);
                return;
            }
            if (!*ev) break;
            if ((*ev)->kind != EventKind::OutputChunk && (*ev)->kind != EventKind::Resized) continue;
            budget -= std::min(budget, (*ev)->payload.size());
            apply(**ev);
        }
        if (screen_caught_up()) m_screen_from_log = false;
    }
    if (!screen_caught_up()) m_screen_task.schedule();
}

void Session::catch_up_screen() {
    while (!screen_caught_up()) {
        int64_t before = m_screen_fed_seq;
        feed_screen_slice();
        if (m_screen_fed_seq == before) break;  // the log could not be read; use what we have
    }
}

void Session::with_current_screen(std::function<void(const Screen&, int64_t)> fn) {
    flush_output();
    if (auto s = m_store.flush(); !s) log_error("event log: commit failed: " + s.error().message);
    // Synchronous: nothing else runs on the loop meanwhile, so no output slips between
    // the screen we render and the live stream that follows it.
    catch_up_screen();
    fn(*m_screen, m_screen_fed_seq);
}

// ---- attached clients --------------------------------------------------------------

void Session::attach(const std::shared_ptr<Connection>& conn, bool read_only, int64_t from_seq) {
    conn->set_output_limit(k_client_output_limit);
    m_clients.push_back(AttachedClient{conn, read_only, from_seq});
    conn->on_drained = [this] { update_reading(); };
    if (!read_only) conn->on_bytes = [this](std::string_view bytes) { write_input(std::string(bytes), "attach"); };
    else conn->on_bytes = [](std::string_view) {};
    uint64_t cid = conn->id();
    conn->on_close = [this, cid] {
        std::erase_if(m_clients, [cid](const AttachedClient& c) {
            auto conn = c.conn.lock();
            return !conn || conn->id() == cid;
        });
        m_store.append(make_json_event(m_id, EventKind::ClientDetached, {{"client", cid}}));
        update_reading();
    };
}

void Session::send_to_clients(const Event& ev) {
    // A copy: a client that overflows is closed, and its on_close edits m_clients.
    auto clients = m_clients;
    for (auto& c : clients)
        if (auto conn = c.conn.lock(); conn && ev.seq > c.from_seq) conn->send_bytes(ev.payload);
    update_reading();
}

size_t Session::client_count() {
    std::erase_if(m_clients, [](const AttachedClient& c) { return c.conn.expired(); });
    return m_clients.size();
}

void Session::finish_clients(const nlohmann::json& notice) {
    std::string reset = m_screen->render_reset_modes();
    auto clients = std::move(m_clients);
    m_clients.clear();
    for (auto& c : clients) {
        auto conn = c.conn.lock();
        if (!conn) continue;
        uint64_t cid = conn->id();
        conn->on_bytes = nullptr;
        conn->on_drained = nullptr;
        conn->on_close = nullptr;
        conn->send_bytes(reset);
        conn->send_json(notice);
        conn->finish();
        m_store.append(make_json_event(m_id, EventKind::ClientDetached, {{"client", cid}}));
    }
    update_reading();
}

void Session::detach_all(const std::string& reason) {
    with_current_screen([&](const Screen&, int64_t) { finish_clients({{"event", "detached"}, {"reason", reason}}); });
}

void Session::shutdown() {
    if (!m_exit_recorded) (void)m_pty->signal(SIGHUP);
}

}  // namespace tether
