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

    std::string ending;
    int rc = 0;
    {
        RawMode raw;
        bool stdin_open = !options.read_only || true;
        bool done = false, detach_sent = false;
        while (!done) {
            // Frames already buffered by the client come first.
            for (;;) {
                auto frame = client.read_frame(0);
                if (!frame) {
                    write_all(STDOUT_FILENO, k_generic_reset);
                    ending = "[tether: lost the connection to the daemon: " + frame.error().message + "]";
                    rc = 1;
                    done = true;
                    break;
                }
                if (!*frame) break;
                if ((*frame)->type == FrameType::Bytes) {
                    write_all(STDOUT_FILENO, (*frame)->body);
                    continue;
                }
                auto j = parse_json_object((*frame)->body);
                if (!j) continue;
                std::string event = j->value("event", "");
                if (event == "detached") {
                    ending = "[detached from session " + std::to_string(session) + "]";
                    done = true;
                } else if (event == "exited") {
                    ending = "[session " + std::to_string(session) + " exited" +
                             (j->contains("code") ? " with code " + std::to_string((*j)["code"].get<int>())
                              : j->contains("signal") ? " on signal " + std::to_string((*j)["signal"].get<int>())
                                                      : std::string()) + "]";
                    done = true;
                } else if (j->value("fatal", false)) {
                    write_all(STDOUT_FILENO, k_generic_reset);
                    ending = "[tether: " + j->value("error", "the daemon closed the stream") + "]";
                    rc = 1;
                    done = true;
                }
                if (done) break;
            }
            if (done) break;
            pollfd fds[3] = {{client.fd(), POLLIN, 0}, {g_winch_pipe[0], POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
            nfds_t n = stdin_open && !detach_sent ? 3 : 2;
            if (poll(fds, n, -1) < 0) {
                if (errno == EINTR) continue;
                break;
            }
            if (fds[1].revents & POLLIN) {
                char buf[64];
                while (read(g_winch_pipe[0], buf, sizeof buf) > 0) {
                }
                if (auto size = terminal_size())
                    (void)client.send_frame(FrameType::Json,
                                            dump_json({{"cmd", "resize"}, {"cols", size->first}, {"rows", size->second}}));
            }
            if (n == 3 && (fds[2].revents & (POLLIN | POLLHUP))) {
                char buf[4096];
                ssize_t got = read(STDIN_FILENO, buf, sizeof buf);
                if (got <= 0) {
                    if (got < 0 && errno == EINTR) continue;
                    stdin_open = false;  // input ended; keep showing output
                    continue;
                }
                std::string_view in(buf, static_cast<size_t>(got));
                size_t key = in.find(static_cast<char>(detach_key));
                std::string_view before = in.substr(0, key);
                if (!before.empty() && !options.read_only) (void)client.send_frame(FrameType::Bytes, before);
                if (key != std::string_view::npos) {
                    (void)client.send_frame(FrameType::Json, dump_json({{"cmd", "detach"}}));
                    detach_sent = true;
                }
            }
        }
    }
    signal(SIGWINCH, SIG_DFL);
    close(g_winch_pipe[0]);
    close(g_winch_pipe[1]);
    // The program's cursor may sit anywhere on the last line: start a fresh one.
    if (!ending.empty()) std::fprintf(stderr, "\n%s\n", ending.c_str());
    return rc;
}

}  // namespace tether
