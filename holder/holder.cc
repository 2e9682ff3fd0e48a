// Holder: the poll loop that relays one PTY to whichever daemon is connected.
#include "holder.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tether {

namespace {

constexpr size_t k_read_chunk = 64u << 10;
constexpr size_t k_read_per_turn = 256u << 10;  // then let the daemon side run
constexpr size_t k_outgoing_high = 256u << 10;  // frames queued for the daemon at most

int64_t now_us() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

bool peer_is_us(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == getuid();
}

}  // namespace

Holder::Holder(HolderOptions options, std::unique_ptr<PtyProcess> pty, int listen_fd, int daemon_fd, int sigchld_fd)
    : m_options(std::move(options)), m_pty(std::move(pty)), m_listen_fd(listen_fd), m_daemon_fd(daemon_fd),
      m_sigchld_fd(sigchld_fd), m_started_us(now_us()), m_cols(m_options.cols), m_rows(m_options.rows) {
    if (m_daemon_fd >= 0) append_holder_frame(m_outgoing, HolderMsg::Hello, hello().fields().encode());
}

Holder::~Holder() {
    if (m_daemon_fd >= 0) close(m_daemon_fd);
    if (m_listen_fd >= 0) close(m_listen_fd);
    if (m_sigchld_fd >= 0) close(m_sigchld_fd);
}

HolderHello Holder::hello() const {
    HolderHello h;
    h.protocol = k_holder_protocol;
    h.version = TETHER_VERSION;
    h.session = m_options.session;
    h.agent_pid = m_pty->pid();
    h.holder_pid = getpid();
    h.state_dir = m_options.state_dir;
    h.argv = m_options.argv;
    h.cwd = m_options.cwd;
    h.produced = m_produced;
    h.acked = m_acked;
    h.started_us = m_started_us;
    h.disconnected_us = m_disconnected_us;
    h.cols = m_cols;
    h.rows = m_rows;
    if (m_exit) {
        h.exited = true;
        h.signaled = m_exit->signaled;
        h.code = m_exit->code;
        h.core_dumped = m_exit->core_dumped;
    }
    return h;
}

bool Holder::can_read_master() const { return !m_eof && held() < m_options.window; }

int Holder::run() {
    while (!m_collected)
        if (!turn(-1)) return 1;
    // Closing the master hangs up what is left on the terminal (grandchildren).
    unlink(m_options.socket_path.c_str());
    return 0;
}

bool Holder::turn(int timeout_ms) {
    pollfd fds[4] = {};
    bool want_master = can_read_master() || !m_input.empty();
    fds[0] = {want_master ? m_pty->master_fd() : -1,
              static_cast<short>((can_read_master() ? POLLIN : 0) | (m_input.empty() ? 0 : POLLOUT)), 0};
    fds[1] = {m_daemon_fd, static_cast<short>(POLLIN | (m_outgoing.empty() ? 0 : POLLOUT)), 0};
    fds[2] = {m_listen_fd, POLLIN, 0};
    fds[3] = {m_sigchld_fd, POLLIN, 0};
    if (poll(fds, 4, timeout_ms) < 0) return errno == EINTR;
    if (fds[3].revents) on_child();
    if (fds[0].revents & (POLLOUT | POLLERR)) on_master_writable();
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        if (can_read_master()) on_master_readable();
    }
    if (m_daemon_fd >= 0 && fds[1].fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) on_daemon_readable();
    if (m_daemon_fd >= 0 && fds[1].fd >= 0 && (fds[1].revents & POLLOUT)) on_daemon_writable();
    if (fds[2].revents & POLLIN) on_accept();
    fill_outgoing();
    if (m_daemon_fd >= 0 && !m_outgoing.empty()) on_daemon_writable();
    return true;
}

void Holder::on_master_readable() {
    size_t total = 0;
    const int fd = m_pty->master_fd();
    while (can_read_master() && total < k_read_per_turn) {
        size_t room = std::min(k_read_chunk, m_options.window - held());
        size_t old = m_window.size();
        m_window.resize(old + room);
        ssize_t n = read(fd, m_window.data() + old, room);
        m_window.resize(old + (n > 0 ? static_cast<size_t>(n) : 0));
        if (n > 0) {
            m_produced += static_cast<uint64_t>(n);
            total += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (m_exit) m_drained_after_exit = true;
            return;
        }
        // EIO: every writer of the slave has gone.
        m_eof = true;
        m_drained_after_exit = m_exit.has_value();
        return;
    }
}

void Holder::on_master_writable() {
    const int fd = m_pty->master_fd();
    while (!m_input.empty()) {
        const std::string& front = m_input.front();
        ssize_t n = write(fd, front.data() + m_input_offset, front.size() - m_input_offset);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0) {  // the terminal is gone: nobody can read input any more
            m_input.clear();
            m_input_offset = 0;
            return;
        }
        m_input_offset += static_cast<size_t>(n);
        if (m_input_offset == front.size()) {
            m_input.pop_front();
            m_input_offset = 0;
        }
    }
}

void Holder::on_child() {
    signalfd_siginfo info;
    while (read(m_sigchld_fd, &info, sizeof info) > 0) {
    }
    if (m_exit) return;
    m_exit = m_pty->try_reap();
    // Take what the agent wrote before it died: the exit is reported after that output.
    if (m_exit && can_read_master()) on_master_readable();
    if (m_exit && m_eof) m_drained_after_exit = true;
}

void Holder::fill_outgoing() {
    if (m_daemon_fd < 0 || !m_resumed) return;
    while (m_sent < m_produced && m_outgoing.size() < k_outgoing_high) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(k_read_chunk, m_produced - m_sent));
        std::string_view bytes(m_window.data() + (m_sent - m_acked), n);
        append_holder_frame(m_outgoing, HolderMsg::Output, holder_offset_payload(m_sent, bytes));
        m_sent += n;
    }
    if (m_sent < m_produced) return;
    if (m_exit && m_drained_after_exit && !m_exit_sent) {
        HolderFields f;
        f.add("signaled", m_exit->signaled).add("code", m_exit->code).add("core_dumped", m_exit->core_dumped);
        append_holder_frame(m_outgoing, HolderMsg::Exit, f.encode());
        m_exit_sent = true;
    }
    if (m_eof && !m_eof_sent) {
        append_holder_frame(m_outgoing, HolderMsg::Eof, "");
        m_eof_sent = true;
    }
}

void Holder::on_daemon_writable() {
    while (!m_outgoing.empty()) {
        ssize_t n = send(m_daemon_fd, m_outgoing.data(), m_outgoing.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) return drop_daemon();
        m_outgoing.erase(0, static_cast<size_t>(n));
    }
    if (m_outgoing.capacity() > k_read_chunk) std::string().swap(m_outgoing);  // idle RSS stays small
}

void Holder::on_daemon_readable() {
    char buf[64 << 10];
    bool gone = false;
    for (;;) {
        ssize_t n = recv(m_daemon_fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n <= 0) {
            gone = true;  // but first act on what it said before it went (its last acks)
            break;
        }
        m_reader.feed(std::string_view(buf, static_cast<size_t>(n)));
    }
    std::string error;
    while (m_daemon_fd >= 0) {
        auto frame = m_reader.next(&error);
        if (!frame) break;
        handle(*frame);
    }
    if (gone || !error.empty()) drop_daemon();
}

void Holder::handle(const HolderFrame& frame) {
    switch (frame.type) {
    case HolderMsg::Resume: {
        auto offset = holder_payload_offset(frame.payload);
        if (!offset || *offset < m_acked || *offset > m_produced) {
            std::string why = "resume at " + (offset ? std::to_string(*offset) : std::string("?")) +
                              " but this holder has output " + std::to_string(m_acked) + " to " + std::to_string(m_produced);
            append_holder_frame(m_outgoing, HolderMsg::Refused, why);
            on_daemon_writable();
            return drop_daemon();
        }
        m_window.erase(0, static_cast<size_t>(*offset - m_acked));
        m_acked = m_sent = *offset;
        m_resumed = true;
        break;
    }
    case HolderMsg::Rebind: {
        if (m_resumed) break;  // only before output flows on this connection
        auto f = HolderFields::decode(frame.payload);
        std::string socket = f.get("socket");
        int64_t session = f.get_int("session");
        if (session <= 0 || socket.empty() || f.get("state_dir").empty()) break;
        // The listening socket keeps working under its new name.
        if (socket != m_options.socket_path && rename(m_options.socket_path.c_str(), socket.c_str()) != 0) {
            append_holder_frame(m_outgoing, HolderMsg::Refused, "cannot move the socket to " + socket + ": " + std::strerror(errno));
            on_daemon_writable();
            return drop_daemon();
        }
        m_options.socket_path = socket;
        m_options.session = session;
        m_options.state_dir = f.get("state_dir");
        // The new log starts with the first byte no daemon confirmed.
        m_produced -= m_acked;
        m_acked = m_sent = 0;
        break;
    }
    case HolderMsg::Ack: {
        auto offset = holder_payload_offset(frame.payload);
        if (!offset || *offset <= m_acked || *offset > m_sent) break;
        m_window.erase(0, static_cast<size_t>(*offset - m_acked));
        m_acked = *offset;
        if (m_window.empty() && m_window.capacity() > k_read_chunk) std::string().swap(m_window);  // idle RSS stays small
        break;
    }
    case HolderMsg::Input:
        if (!frame.payload.empty() && !m_exit) m_input.push_back(frame.payload);
        break;
    case HolderMsg::Resize: {
        auto f = HolderFields::decode(frame.payload);
        int cols = static_cast<int>(f.get_int("cols")), rows = static_cast<int>(f.get_int("rows"));
        if (m_pty->resize(cols, rows)) {
            m_cols = cols;
            m_rows = rows;
        }
        break;
    }
    case HolderMsg::Signal:
        if (!m_exit) (void)m_pty->signal(static_cast<int>(HolderFields::decode(frame.payload).get_int("signal")));
        break;
    case HolderMsg::Collect:
        if (m_exit) m_collected = true;
        break;
    default:
        break;  // a newer daemon's message this holder does not know
    }
}

void Holder::drop_daemon() {
    if (m_daemon_fd < 0) return;
    close(m_daemon_fd);
    m_daemon_fd = -1;
    if (m_resumed) m_disconnected_us = now_us();  // a daemon, not a passing `tether doctor`
    m_resumed = false;
    m_outgoing.clear();
    m_reader = HolderFrameReader();
    m_sent = m_acked;  // the next daemon says where it resumes
    m_exit_sent = m_eof_sent = false;
}

void Holder::on_accept() {
    int fd = accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    if (!peer_is_us(fd)) {
        close(fd);
        return;
    }
    // A daemon that just went away may not have been noticed yet: its EOF is waiting.
    if (m_daemon_fd >= 0) on_daemon_readable();
    if (m_daemon_fd >= 0) {
        std::string refusal;
        append_holder_frame(refusal, HolderMsg::Refused, "another daemon is connected to this holder");
        (void)send(fd, refusal.data(), refusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        close(fd);
        return;
    }
    m_daemon_fd = fd;
    append_holder_frame(m_outgoing, HolderMsg::Hello, hello().fields().encode());
}

}  // namespace tether
