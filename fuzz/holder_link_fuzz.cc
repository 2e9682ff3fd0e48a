// Fuzz target `holder_link`: what a holder process says to the daemon, from the hello a
// starting daemon reads when it adopts it (pids, offsets, sizes, exit status, argv)
// through the output frames with their offsets, the exit and end of output, into a real
// daemon: the adoption checks, the session's output path (resume, coalescing, the
// signal scanner, acknowledgements), the log and the screen. The log is made to hold a
// live session 1 first, so a well-formed hello is adopted. Input: the bytes a fake
// holder writes on its socket (the hello's state_dir is set to the daemon's own, so an
// input cannot point it elsewhere). Findings: crashes, sanitizer reports, a session
// whose holder left and that never ends.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "daemon.h"
#include "fuzz_support.h"
#include "fuzz_target.h"
#include "wire/holder_link.h"
#include "wire/holder_protocol.h"

using namespace tether;

namespace {

// An events.db whose session 1 is live and has logged nothing yet, copied for each input.
const std::string& template_log() {
    static const std::string path = [] {
        std::string p = fuzz::scratch_dir() + "/template-events.db";
        auto log = EventLog::open(p);
        FUZZ_CHECK(bool(log), "template log");
        Projections proj;
        Event started = make_json_event(1, EventKind::SessionStarted,
                                        {{"name", "agent"}, {"command", {"claude"}}, {"cwd", "/tmp"}, {"agent", "claude"},
                                         {"cols", 80}, {"rows", 24}, {"pid", 4242}, {"holder_pid", 4241}});
        proj.apply((*log)->append(started));
        auto s = (*log)->commit([&](SqliteDb& db) { return proj.persist(db); });
        FUZZ_CHECK(bool(s), "template commit");
        return p;
    }();
    return path;
}

int listen_at(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::copy(path.begin(), path.end(), addr.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && listen(fd, 4) == 0,
               "listen at " + path);
    return fd;
}

// The fake holder: answers one connection with the input's bytes, then reads until the
// daemon closes it (acknowledgements, input and the rest go nowhere).
void fake_holder(int listen_fd, std::string bytes) {
    pollfd p{listen_fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) return;
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
    }
    shutdown(fd, SHUT_WR);
    char buf[65536];
    while (recv(fd, buf, sizeof buf, 0) > 0) {
    }
    close(fd);
}

// The input's frames, the hello's state_dir replaced by the daemon's; the rest as it is.
std::string holder_bytes(std::string_view input, const std::string& state_dir) {
    HolderFrameReader reader;
    reader.feed(input);
    std::string error;
    auto first = reader.next(&error);
    if (!first || first->type != HolderMsg::Hello) return std::string(input);
    HolderFields in = HolderFields::decode(first->payload), out;
    HolderHello h = HolderHello::from(in);
    h.state_dir = state_dir;
    std::string bytes;
    append_holder_frame(bytes, HolderMsg::Hello, h.fields().encode());
    bytes.append(input.substr(5 + first->payload.size()));
    return bytes;
}

}  // namespace

TETHER_FUZZ_TARGET(holder_link) {
    static int n = 0;
    static bool quiet = (signal(SIGPIPE, SIG_IGN), fuzz::quiet_daemon_logs(), true);
    (void)quiet;
    std::string dir = fuzz::scratch_dir() + "/link-" + std::to_string(++n % 4);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    std::filesystem::create_directories(dir + "/state");
    std::filesystem::create_directories(dir + "/run/tetherd-holders");
    std::filesystem::copy_file(template_log(), dir + "/state/events.db");

    DaemonOptions options;
    options.paths.state_dir = dir + "/state";
    options.paths.socket_path = dir + "/run/tetherd.sock";
    options.config = *load_config("");
    options.store.flush_interval_ms = 0;
    int listen_fd = listen_at(dir + "/run/tetherd-holders/1.sock");
    std::thread holder(fake_holder, listen_fd,
                       holder_bytes(std::string_view(reinterpret_cast<const char*>(data), size), options.paths.state_dir));
    {
        auto d = Daemon::start(options);
        if (!d) fuzz::check_failed("Daemon::start", d.error().message, __FILE__, __LINE__);
        // Until the session has ended (the fake holder's end of input is its end, and a
        // holder that is not adopted leaves it lost) and its end is in the log.
        auto started = std::chrono::steady_clock::now();
        Store& store = (*d)->store();
        for (int turns = 0;; ++turns) {
            (*d)->loop().run_ready();
            const SessionRow* row = store.sessions().find(1);
            if (row && !row->live() && store.log().pending_events() == 0) break;
            if (turns > 8) std::this_thread::sleep_for(std::chrono::microseconds(100));
            FUZZ_CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20),
                       "a session whose holder left never ends");
        }
        for (int i = 0; i < 4; ++i) (*d)->loop().run_ready();
    }
    close(listen_fd);
    holder.join();
    return 0;
}
