// Raw terminal <-> attached stream.
#include "attach_client.h"

#include "config/config.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>

namespace tether {

namespace {

int g_winch_pipe[2] = {-1, -1};

void on_winch(int) {
    int saved = errno;
    char c = 'w';
    ssize_t ignored = write(g_winch_pipe[1], &c, 1);
    (void)ignored;
    errno = saved;
}

bool write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = write(fd, s.data(), s.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            pollfd p{fd, POLLOUT, 0};
            poll(&p, 1, -1);
            continue;
        }
        if (n <= 0) return false;
        s.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

std::optional<std::pair<int, int>> terminal_size() {
    winsize ws{};
    for (int fd : {STDOUT_FILENO, STDIN_FILENO})
        if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) return std::make_pair(int(ws.ws_col), int(ws.ws_row));
    return std::nullopt;
}

// Restores the terminal's settings however attach ends.
class RawMode {
public:
    RawMode() {
        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &m_saved) != 0) return;
        termios raw = m_saved;
        cfmakeraw(&raw);
        if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0) m_active = true;
    }
    ~RawMode() {
        if (m_active) tcsetattr(STDIN_FILENO, TCSADRAIN, &m_saved);
    }

private:
    termios m_saved{};
    bool m_active = false;
};

// What a terminal needs when the daemon could not send its own resets (it vanished).
constexpr const char* k_generic_reset =
    "\x1b[?1049l\x1b[?1l\x1b>\x1b[?2004l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1004l\x1b[?25h\x1b[0m\r\n";

// One attached terminal: frames from the daemon to stdout, keys and resizes to the daemon,
// until a detach, the session's exit or a lost connection.
class AttachLoop {
public:
    AttachLoop(Client& client, int64_t session, unsigned char detach_key, bool read_only)
        : m_client(client), m_session(session), m_detach_key(detach_key), m_read_only(read_only) {}

    void run() {
        while (!m_done) {
            drain_frames();
            if (m_done) break;
            pollfd fds[3] = {{m_client.fd(), POLLIN, 0}, {g_winch_pipe[0], POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
            nfds_t n = m_stdin_open && !m_detach_sent ? 3 : 2;
            if (poll(fds, n, -1) < 0) {
                if (errno == EINTR) continue;
                break;
            }
            if (fds[1].revents & POLLIN) send_size();
            if (n == 3 && (fds[2].revents & (POLLIN | POLLHUP))) forward_input();
        }
    }

    int rc = 0;
    std::string ending;  // shown after the terminal is restored

private:
    // Frames already buffered by the client come first.
    void drain_frames() {
        while (!m_done) {
            auto frame = m_client.read_frame(0);
            if (!frame) return lost("lost the connection to the daemon: " + frame.error().message);
            if (!*frame) return;
            if ((*frame)->type == FrameType::Bytes) {
                write_all(STDOUT_FILENO, (*frame)->body);
                continue;
            }
            if (auto j = parse_json_object((*frame)->body)) on_notice(*j);
        }
    }

    void on_notice(const nlohmann::json& j) {
        std::string event = j.value("event", "");
        std::string id = std::to_string(m_session);
        if (event == "detached") {
            ending = "[detached from session " + id + "]";
            m_done = true;
        } else if (event == "exited") {
            ending = "[session " + id + " exited" +
                     (j.contains("code") ? " with code " + std::to_string(j["code"].get<int>())
                      : j.contains("signal") ? " on signal " + std::to_string(j["signal"].get<int>())
                                             : std::string()) + "]";
            m_done = true;
        } else if (j.value("fatal", false)) {
            lost(j.value("error", "the daemon closed the stream"));
        }
    }

    void lost(const std::string& why) {
        write_all(STDOUT_FILENO, k_generic_reset);
        ending = "[tether: " + why + "]";
        rc = 1;
        m_done = true;
    }

    void send_size() {
        char buf[64];
        while (read(g_winch_pipe[0], buf, sizeof buf) > 0) {
        }
        if (auto size = terminal_size())
            (void)m_client.send_frame(FrameType::Json, dump_json({{"cmd", "resize"}, {"cols", size->first}, {"rows", size->second}}));
    }

    void forward_input() {
        char buf[4096];
        ssize_t got = read(STDIN_FILENO, buf, sizeof buf);
        if (got <= 0) {
            if (got < 0 && errno == EINTR) return;
            m_stdin_open = false;  // input ended; keep showing output
            return;
        }
        std::string_view in(buf, static_cast<size_t>(got));
        size_t key = in.find(static_cast<char>(m_detach_key));
        std::string_view before = in.substr(0, key);
        if (!before.empty() && !m_read_only) (void)m_client.send_frame(FrameType::Bytes, before);
        if (key != std::string_view::npos) {
            (void)m_client.send_frame(FrameType::Json, dump_json({{"cmd", "detach"}}));
            m_detach_sent = true;
        }
    }

    Client& m_client;
    int64_t m_session;
    unsigned char m_detach_key;
    bool m_read_only;
    bool m_stdin_open = true, m_done = false, m_detach_sent = false;
};

}  // namespace

int attach_session(Client& client, const nlohmann::json& session_ref, const AttachOptions& options) {
    nlohmann::json req{{"cmd", "attach"}, {"session", session_ref}, {"read_only", options.read_only}};
    if (auto size = terminal_size()) {
        req["cols"] = size->first;
        req["rows"] = size->second;
    }
    auto reply = client.request(req);
    if (!reply) {
        std::fprintf(stderr, "tether: %s\n", reply.error().message.c_str());
        return 1;
    }
    int64_t session = (*reply)["session"].get<int64_t>();
    unsigned char detach_key = 0x1c;
    if (options.detach_key) detach_key = *options.detach_key;
    else if (auto k = parse_detach_key(reply->value("detach_key", ""))) detach_key = *k;

    if (pipe2(g_winch_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return 1;
    struct sigaction sa {};
    sa.sa_handler = on_winch;
    sigaction(SIGWINCH, &sa, nullptr);

    AttachLoop loop(client, session, detach_key, options.read_only);
    {
        RawMode raw;
        loop.run();
    }
    signal(SIGWINCH, SIG_DFL);
    close(g_winch_pipe[0]);
    close(g_winch_pipe[1]);
    // The program's cursor may sit anywhere on the last line: start a fresh one.
    if (!loop.ending.empty()) std::fprintf(stderr, "\n%s\n", loop.ending.c_str());
    return loop.rc;
}

}  // namespace tether
