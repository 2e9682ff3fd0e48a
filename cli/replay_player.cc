// Replay: pacing, keys, terminal restore.
#include "replay_player.h"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "wire/protocol.h"

namespace tether {

namespace {

using Clock = std::chrono::steady_clock;

// Raw keys from stdin while the replay runs; restored on destruction.
class RawInput {
public:
    RawInput() {
        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &m_saved) != 0) return;
        termios raw = m_saved;
        cfmakeraw(&raw);
        raw.c_oflag = m_saved.c_oflag;  // output as usual: the recording has its own CR LF
        if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0) m_active = true;
    }
    ~RawInput() {
        if (m_active) tcsetattr(STDIN_FILENO, TCSADRAIN, &m_saved);
    }
    bool active() const { return m_active; }

private:
    termios m_saved{};
    bool m_active = false;
};

bool write_all(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::write(STDOUT_FILENO, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

struct CastEvent {
    double t = 0;
    std::string type;
    std::string data;
};

// Lines of the stream, read from the socket only when the player needs the next one.
class CastReader {
public:
    CastReader(Client& client) : m_client(client) {}

    Status start(nlohmann::json req) {
        req["id"] = 1;
        return m_client.send_frame(FrameType::Json, dump_json(req));
    }
    // nullopt at the end of the stream.
    Result<std::optional<std::string>> next_line() {
        for (;;) {
            size_t nl = m_buf.find('\n', m_pos);
            if (nl != std::string::npos) {
                std::string line = m_buf.substr(m_pos, nl - m_pos);
                m_pos = nl + 1;
                if (m_pos > (1u << 20)) {
                    m_buf.erase(0, m_pos);
                    m_pos = 0;
                }
                return std::optional<std::string>(std::move(line));
            }
            if (m_done) return std::optional<std::string>();
            auto frame = m_client.read_frame(-1);
            if (!frame) return frame.error();
            if (!*frame) continue;
            if ((*frame)->type == FrameType::Bytes) {
                m_buf += (*frame)->body;
                continue;
            }
            auto j = parse_json_object((*frame)->body);
            if (!j) return j.error();
            if (j->value("id", 0) != 1 && !j->value("fatal", false)) continue;
            if (!j->value("ok", false)) return Error{j->value("error", "the daemon refused the replay")};
            m_done = true;
        }
    }
    Result<std::optional<CastEvent>> next_event() {
        auto line = next_line();
        if (!line) return line.error();
        if (!*line) return std::optional<CastEvent>();
        auto j = nlohmann::json::parse(**line, nullptr, false);
        if (!j.is_array() || j.size() != 3 || !j[0].is_number() || !j[1].is_string() || !j[2].is_string())
            return Error{"replay: a malformed event in the stream: " + line->value().substr(0, 80)};
        return std::optional<CastEvent>(CastEvent{j[0].get<double>(), j[1].get<std::string>(), j[2].get<std::string>()});
    }

private:
    Client& m_client;
    std::string m_buf;
    size_t m_pos = 0;
    bool m_done = false;
};

// Tracks whether the program left the terminal on its alternate screen.
void track_alt_screen(const std::string& data, bool& alt) {
    for (const char* on : {"\x1b[?1049h", "\x1b[?1047h", "\x1b[?47h"})
        for (const char* off : {"\x1b[?1049l", "\x1b[?1047l", "\x1b[?47l"}) {
            size_t a = data.rfind(on), b = data.rfind(off);
            if (a != std::string::npos && (b == std::string::npos || a > b)) alt = true;
            if (b != std::string::npos && (a == std::string::npos || b > a)) alt = false;
        }
}

enum class Key { none, pause, next, faster, slower, quit };

Key parse_key(const std::string& in, size_t& i) {
    char c = in[i++];
    if (c == ' ') return Key::pause;
    if (c == 'n') return Key::next;
    if (c == '+' || c == '=') return Key::faster;
    if (c == '-') return Key::slower;
    if (c == 'q' || c == 3 /* Ctrl-C */) return Key::quit;
    if (c == '\x1b' && in.compare(i, 2, "[C") == 0) {
        i += 2;
        return Key::next;
    }
    return Key::none;
}

}  // namespace

int play_recording(Client& client, const nlohmann::json& export_request, const PlayOptions& options) {
    CastReader reader(client);
    if (auto s = reader.start(export_request); !s) {
        std::fprintf(stderr, "tether: replay: %s\n", s.error().message.c_str());
        return 1;
    }
    auto header = reader.next_line();
    if (!header || !*header) {
        std::fprintf(stderr, "tether: replay: %s\n", header ? "the recording is empty" : header.error().message.c_str());
        return 1;
    }
    RawInput keys;
    // The recording began on a blank terminal.
    write_all("\x1b[0m\x1b[H\x1b[2J");
    double speed = options.speed;
    bool paused = false, skipping = false, alt = false;
    double last_t = 0;
    std::string error;
    for (;;) {
        auto ev = reader.next_event();
        if (!ev) {
            error = ev.error().message;
            break;
        }
        if (!*ev) break;
        double delay = std::max(0.0, (*ev)->t - last_t);
        last_t = (*ev)->t;
        if (options.max_idle_s > 0) delay = std::min(delay, options.max_idle_s);
        if (skipping) delay = 0;
        auto due = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(delay / speed * 1e6));
        bool quit = false;
        // Wait for the event's moment, answering keys meanwhile.
        while (!quit && (paused || Clock::now() < due)) {
            int timeout = paused ? -1
                                 : static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(due - Clock::now()).count()) + 1;
            pollfd pfd{keys.active() ? STDIN_FILENO : -1, POLLIN, 0};
            if (!keys.active() && paused) break;
            int n = poll(&pfd, 1, timeout);
            if (n <= 0 || !(pfd.revents & POLLIN)) continue;
            char buf[64];
            ssize_t got = ::read(STDIN_FILENO, buf, sizeof buf);
            if (got <= 0) continue;
            std::string in(buf, static_cast<size_t>(got));
            for (size_t i = 0; i < in.size();) {
                Key k = parse_key(in, i);
                auto left = due - Clock::now();
                if (k == Key::quit) quit = true;
                else if (k == Key::pause) {
                    paused = !paused;
                    if (!paused) due = Clock::now() + std::max(left, Clock::duration::zero());
                } else if (k == Key::next) {
                    skipping = true;
                    paused = false;
                    due = Clock::now();
                } else if (k == Key::faster) speed = std::min(speed * 2, 64.0);
                else if (k == Key::slower) speed = std::max(speed / 2, 1.0 / 64);
            }
        }
        if (quit) break;
        if ((*ev)->type == "o") {
            track_alt_screen((*ev)->data, alt);
            if (!write_all((*ev)->data)) break;
        } else if ((*ev)->type == "m" && skipping) {
            skipping = false;  // arrived at the next marked moment
        }
    }
    // Leave the user's terminal as a shell expects it, whatever the program set.
    std::string reset = "\x1b[0m\x1b[?25h\x1b[?1l\x1b>\x1b[?2004l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1004l";
    if (alt) reset += "\x1b[?1049l";
    write_all(reset);
    if (!error.empty()) {
        std::fprintf(stderr, "\r\ntether: replay: %s\n", error.c_str());
        return 1;
    }
    return 0;
}

}  // namespace tether
