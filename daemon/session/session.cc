// Session: PTY drain, input, screen follower, attached clients.
#include "session/session.h"

#include <signal.h>
#include <unistd.h>

#include "base/log.h"

namespace tether {

namespace {
constexpr size_t k_client_output_limit = 64u << 20;
constexpr long k_enter_delay_ms = 50;
}  // namespace

Session::Session(EventLoop& loop, Store& store, ScreenFollower& follower, const SessionLimits& limits, int64_t id,
                 std::unique_ptr<HolderLink> link, int cols, int rows, uint64_t output_offset)
    : m_loop(loop), m_store(store), m_follower(follower), m_limits(limits), m_id(id), m_link(std::move(link)), m_cols(cols), m_rows(rows),
      m_read_watcher(loop, m_link->fd(), FdWatcher::Read, [this] { on_readable(); }),
      m_write_watcher(loop, m_link->fd(), FdWatcher::Write, [this] { on_writable(); }),
      m_coalesce_timer(loop, [this] { flush_output(); }),
      m_enter_timer(loop, [this] {
          auto pending = std::move(m_pending_enters);
          m_pending_enters.clear();
          for (auto& done : pending) {
              write_input("\r");
              if (done) done();
          }
      }),
      m_received(output_offset), m_durable(output_offset) {
    m_link->resume(output_offset);
    queue_to_holder();
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

// ---- output path: holder -> log ---------------------------------------------------

void Session::on_readable() {
    bool open = m_link->read(m_limits.read_slice);
    std::string error;
    while (m_output_open || !m_exit_recorded) {
        auto frame = m_link->next(&error);
        if (!frame) break;
        handle(*frame);
    }
    if (!error.empty()) open = false;
    if (!open) return holder_lost(error.empty() ? "its holder process ended" : error);
    if (!m_out.empty() && !m_coalesce_timer.armed()) m_coalesce_timer.arm_ms(m_limits.coalesce_ms);
    update_reading();
}

void Session::handle(const HolderFrame& frame) {
    switch (frame.type) {
    case HolderMsg::Output: {
        auto offset = holder_payload_offset(frame.payload);
        if (offset) take_output(*offset, std::string_view(frame.payload).substr(8));
        break;
    }
    case HolderMsg::Exit: {
        auto f = HolderFields::decode(frame.payload);
        m_exit = PtyProcess::Exit{f.get_int("signaled") != 0, static_cast<int>(f.get_int("code")), f.get_int("core_dumped") != 0};
        maybe_record_exit();
        break;
    }
    case HolderMsg::Eof:
        end_of_output();
        break;
    case HolderMsg::Refused:
        holder_lost("the holder refused: " + frame.payload);
        break;
    default:
        break;
    }
}

void Session::take_output(uint64_t offset, std::string_view bytes) {
    if (!m_output_open) return;
    const uint64_t end = offset + bytes.size();
    // The holder resends from where we resumed; never take a byte twice.
    if (end <= m_received) return;
    if (offset < m_received) bytes.remove_prefix(static_cast<size_t>(m_received - offset));
    else if (offset > m_received)
        log_error("session " + std::to_string(m_id) + ": holder skipped output from " + std::to_string(m_received) +
                  " to " + std::to_string(offset));
    m_received = end;
    while (!bytes.empty()) {
        size_t n = std::min(bytes.size(), m_limits.chunk_bytes - m_out.size());
        m_out.append(bytes.substr(0, n));
        bytes.remove_prefix(n);
        if (m_out.size() >= m_limits.chunk_bytes) flush_output();
    }
}

void Session::holder_lost(const std::string& why) {
    m_read_watcher.disable();
    m_write_watcher.disable();
    flush_output();
    m_output_open = false;
    if (m_exit_recorded) return;
    // Its holder gone, the PTY is closed: the program got a hangup and its end is unknown.
    log_error("session " + std::to_string(m_id) + ": " + why);
    m_store.append(make_json_event(m_id, EventKind::SessionExited, {{"lost", true}, {"reason", why}}));
    m_exit_recorded = true;
}

void Session::queue_to_holder() {
    if (m_link->wants_write()) m_write_watcher.enable();
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
    if (m_pause_holds > 0 || m_store.backlogged()) return true;
    for (const auto& c : m_clients)
        if (auto conn = c.conn.lock(); conn && conn->output_pending() > m_limits.client_high_water) return true;
    return false;
}

void Session::update_reading() {
    // After the end of output the holder still has the exit to tell.
    if ((!m_output_open && m_exit_recorded) || should_pause())
        m_read_watcher.disable();
    else
        m_read_watcher.enable();
}

void Session::end_of_output() {
    flush_output();
    m_output_open = false;
    update_reading();
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
}

// ---- input path --------------------------------------------------------------------

void Session::write_input(std::string bytes) {
    if (bytes.empty() || m_exit_recorded) return;
    m_store.append(make_bytes_event(m_id, EventKind::InputSent, bytes));
    m_link->input(bytes);
    queue_to_holder();
}

void Session::write_enter_later(std::function<void()> done) {
    m_pending_enters.push_back(std::move(done));
    if (!m_enter_timer.armed()) m_enter_timer.arm_ms(k_enter_delay_ms);
}

void Session::on_writable() {
    if (!m_link->write()) return holder_lost("its holder process ended");
    if (!m_link->wants_write()) m_write_watcher.disable();
}

Status Session::resize(int cols, int rows) {
    if (cols == m_cols && rows == m_rows) return {};
    if (m_exit_recorded) return Error{"session " + std::to_string(m_id) + " has already exited"};
    m_link->resize(cols, rows);
    queue_to_holder();
    m_cols = cols;
    m_rows = rows;
    flush_output();  // output so far was written for the old size
    m_store.append(make_json_event(m_id, EventKind::Resized, {{"cols", cols}, {"rows", rows}}));
    return {};
}

Status Session::signal(int sig) {
    if (m_exit_recorded) return Error{"session " + std::to_string(m_id) + " has already exited"};
    m_link->signal(sig);
    queue_to_holder();
    return {};
}

// ---- screen and attached clients ---------------------------------------------------

void Session::on_committed(const Event& ev) {
    if (ev.kind == EventKind::OutputChunk) {
        // Durable now: the holder may forget these bytes.
        m_durable += ev.payload.size();
        m_link->ack(m_durable);
        queue_to_holder();
        send_to_clients(ev);
    } else if (ev.kind == EventKind::SessionExited) {
        m_link->collect();  // the exit is on record: the holder may end
        queue_to_holder();
        // Inside a commit: everything the program wrote is already with the follower.
        nlohmann::json notice{{"event", "exited"}};
        auto j = ev.json();
        for (const char* k : {"code", "signal"})
            if (j.contains(k)) notice[k] = j[k];
        std::weak_ptr<bool> alive = m_alive;
        m_follower.when_caught_up(m_id, [this, alive, notice](const Screen& screen, int64_t) {
            if (alive.lock()) finish_clients(notice, screen.render_reset_modes());
        });
    }
}

void Session::with_current_screen(ScreenFollower::ScreenFn fn) {
    flush_output();
    if (auto s = m_store.flush(); !s) log_error("event log: commit failed: " + s.error().message);
    std::weak_ptr<bool> alive = m_alive;
    m_follower.when_caught_up(m_id, [alive, fn = std::move(fn)](const Screen& screen, int64_t seq) {
        if (alive.lock()) fn(screen, seq);
    });
}

void Session::attach(const std::shared_ptr<Connection>& conn, bool read_only, size_t history,
                     std::function<void(const Screen&)> reply) {
    // No output may be read between the screen we render and the stream that follows.
    ++m_pause_holds;
    update_reading();
    std::weak_ptr<Connection> weak = conn;
    with_current_screen([this, weak, read_only, history, reply = std::move(reply)](const Screen& screen, int64_t seq) {
        --m_pause_holds;
        auto conn = weak.lock();
        if (conn && conn->open()) {
            reply(screen);
            std::string redraw = screen.render_attach(history);
            // A long history is one large write: the limit must hold it and the stream after.
            conn->set_output_limit(std::max(k_client_output_limit, redraw.size() + k_client_output_limit));
            conn->send_bytes(redraw);
            m_clients.push_back(AttachedClient{conn, read_only, seq});
            conn->on_drained = [this] { update_reading(); };
            if (!read_only) conn->on_bytes = [this](std::string_view bytes) { write_input(std::string(bytes)); };
            else conn->on_bytes = [](std::string_view) {};
            uint64_t cid = conn->id();
            conn->attached_session = m_id;
            conn->on_close = [this, cid] { forget_client(cid); };
        }
        update_reading();
    });
}

void Session::forget_client(uint64_t cid) {
    std::erase_if(m_clients, [cid](const AttachedClient& c) {
        auto conn = c.conn.lock();
        return !conn || conn->id() == cid;
    });
    m_store.append(make_json_event(m_id, EventKind::ClientDetached, {{"client", cid}}));
    update_reading();
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

void Session::finish_clients(const nlohmann::json& notice, const std::string& reset) {
    auto clients = std::move(m_clients);
    m_clients.clear();
    for (auto& c : clients) {
        auto conn = c.conn.lock();
        if (!conn) continue;
        uint64_t cid = conn->id();
        conn->on_bytes = nullptr;
        conn->on_drained = nullptr;
        conn->on_close = nullptr;
        conn->attached_session = 0;
        conn->send_bytes(reset);
        conn->send_json(notice);
        conn->finish();
        m_store.append(make_json_event(m_id, EventKind::ClientDetached, {{"client", cid}}));
    }
    update_reading();
}

void Session::detach_client(const std::shared_ptr<Connection>& conn, const std::string& reason) {
    std::weak_ptr<Connection> weak = conn;
    with_current_screen([this, weak, reason](const Screen& screen, int64_t) {
        auto conn = weak.lock();
        if (!conn) return;
        uint64_t cid = conn->id();
        conn->on_bytes = nullptr;
        conn->on_drained = nullptr;
        conn->on_close = nullptr;
        conn->attached_session = 0;
        forget_client(cid);
        conn->send_bytes(screen.render_reset_modes());
        conn->send_json({{"event", "detached"}, {"reason", reason}});
        conn->finish();
    });
}

void Session::detach_all(const std::string& reason) {
    with_current_screen([this, reason](const Screen& screen, int64_t) {
        finish_clients({{"event", "detached"}, {"reason", reason}}, screen.render_reset_modes());
    });
}

void Session::shutdown() {
    flush_output();
    (void)m_link->write();  // input and acknowledgements already queued, best effort
}

}  // namespace tether
