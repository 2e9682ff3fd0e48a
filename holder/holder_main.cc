// tether-holder: started by tetherd for each session (never by hand). It reads the spawn
// request from the daemon on fd 3, detaches into its own session so that it outlives
// the daemon, listens where later daemons look for it, starts the agent on a fresh PTY
// and then relays (holder.h).
//
//   tether-holder --session ID --socket PATH --state-dir DIR [--window BYTES]
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "holder.h"

using namespace tether;

namespace {

constexpr int k_daemon_fd = 3;

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "tether-holder: %s\n"
                 "tether-holder is started by tetherd, one per session; it is not meant to be run by hand.\n",
                 why);
    std::exit(2);
}

void write_all(int fd, const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<size_t>(n);
    }
}

// Blocks for the one Spawn frame the daemon sends first.
bool read_spawn(int fd, HolderFields& out) {
    HolderFrameReader reader;
    char buf[16 << 10];
    for (;;) {
        std::string error;
        if (auto frame = reader.next(&error)) {
            if (frame->type != HolderMsg::Spawn) return false;
            out = HolderFields::decode(frame->payload);
            return true;
        }
        if (!error.empty()) return false;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        reader.feed(std::string_view(buf, static_cast<size_t>(n)));
    }
}

int listen_at(const std::string& path) {
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path) return -1;
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    unlink(path.c_str());  // a stale socket of a holder that died with this session's id
    mode_t old = umask(077);
    int bound = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    umask(old);
    if (bound < 0 || listen(fd, 4) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void refuse(const std::string& why) {
    std::string frame;
    append_holder_frame(frame, HolderMsg::SpawnFailed, why);
    write_all(k_daemon_fd, frame);
    std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
    // Fixed thresholds: the window's large buffers go back to the system once drained.
    // glibc's adaptive threshold would move them to the heap after the first free and
    // keep them (measured: 3 MB resident after a flood, 750 KiB with these).
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024);
    HolderOptions options;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
        std::string value = argv[++i];
        if (arg == "--session") options.session = std::atoll(value.c_str());
        else if (arg == "--socket") options.socket_path = value;
        else if (arg == "--state-dir") options.state_dir = value;
        else if (arg == "--window") options.window = static_cast<size_t>(std::atoll(value.c_str()));
        else usage(("unknown option " + arg).c_str());
    }
    if (options.session <= 0 || options.socket_path.empty() || options.state_dir.empty() || options.window < 4096)
        usage("--session, --socket and --state-dir are required");
    if (fcntl(k_daemon_fd, F_GETFD) < 0) usage("no daemon connection on fd 3");
    fcntl(k_daemon_fd, F_SETFD, FD_CLOEXEC);

    HolderFields spawn;
    if (!read_spawn(k_daemon_fd, spawn)) return 1;
    SpawnRequest req;
    req.argv = spawn.get_all("arg");
    req.env = spawn.get_all("env");
    req.cwd = spawn.get("cwd");
    req.cols = static_cast<int>(spawn.get_int("cols", 80));
    req.rows = static_cast<int>(spawn.get_int("rows", 24));
    req.umask = static_cast<int>(spawn.get_int("umask", -1));
    options.cols = req.cols;
    options.rows = req.rows;
    options.argv = req.argv;
    options.cwd = req.cwd;

    // Leave the daemon's process group and session: whatever ends the daemon (a signal
    // to its group, a closed terminal) does not reach the holder. The daemon reaps the
    // intermediate child; the holder itself is re-parented to init (or a subreaper).
    pid_t pid = fork();
    if (pid < 0) refuse(std::string("fork failed: ") + std::strerror(errno));
    if (pid > 0) _exit(0);
    setsid();
    if (chdir("/") < 0) {
    }
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0)
        for (int fd = 0; fd < 3; ++fd) dup2(null_fd, fd);
    signal(SIGPIPE, SIG_IGN);

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, nullptr);  // the agent's child resets its mask before exec
    int sigchld_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigchld_fd < 0) refuse(std::string("signalfd failed: ") + std::strerror(errno));

    int listen_fd = listen_at(options.socket_path);
    if (listen_fd < 0) refuse("cannot listen at " + options.socket_path + ": " + std::strerror(errno));

    auto pty = PtyProcess::spawn(req);
    if (!pty) {
        unlink(options.socket_path.c_str());
        refuse(pty.error().message);
    }
    int daemon_fd = fcntl(k_daemon_fd, F_DUPFD_CLOEXEC, 3);
    close(k_daemon_fd);
    fcntl(daemon_fd, F_SETFL, O_NONBLOCK);
    Holder holder(std::move(options), std::move(*pty), listen_fd, daemon_fd, sigchld_fd);
    return holder.run();
}
