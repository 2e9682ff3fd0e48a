// tetherd: flags, daemonizing, and the run. Everything else lives in daemon.cc.
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "config/config.h"
#include "daemon.h"
#include "base/log.h"

using namespace tether;

namespace {

void write_all(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = write(fd, s.data() + off, s.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        off += static_cast<size_t>(n);
    }
}

// Forks twice so the daemon has no controlling terminal and is not a session leader,
// and returns the fd on which the grandchild reports readiness. The original process
// waits on that fd and exits with the outcome, so `tetherd --daemonize` fails loudly.
int daemonize(const std::string& log_path) {
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        perror("tetherd: pipe");
        std::exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("tetherd: fork");
        std::exit(1);
    }
    if (pid > 0) {
        close(pipefd[1]);
        std::string report;
        char buf[512];
        ssize_t n;
        while ((n = read(pipefd[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
            if (n > 0) report.append(buf, static_cast<size_t>(n));
        if (report == "ok\n") std::exit(0);
        std::fprintf(stderr, "tetherd: %s\n", report.empty() ? "daemon died during start-up" : report.c_str());
        std::exit(1);
    }
    close(pipefd[0]);
    setsid();
    if (fork() != 0) _exit(0);
    if (chdir("/") != 0) _exit(1);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    int logfd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (devnull < 0 || logfd < 0) {
        write_all(pipefd[1], "cannot open " + log_path + ": " + std::strerror(errno));
        _exit(1);
    }
    dup2(devnull, STDIN_FILENO);
    dup2(logfd, STDOUT_FILENO);
    dup2(logfd, STDERR_FILENO);
    // Close everything inherited from whoever started us, but the report pipe.
    for (int fd = 3; fd < 1024; ++fd)
        if (fd != pipefd[1]) close(fd);
    return pipefd[1];
}

struct Flags {
    std::string state_dir, socket_path, config_path;
    bool daemonize = false, rebuild = false, check_only = false;
    long flush_ms = 5, frame_timeout_ms = 10000;
    bool flush_given = false;
    size_t holder_window = 1u << 20;
};

// Parses argv into flags; a return value is the exit code of --help, --version or a usage error.
std::optional<int> parse_flags(int argc, char** argv, Flags& f) {
    CLI::App app{"tetherd: the tether daemon. It owns the agents' terminals and the event log."};
    app.add_option("--state-dir", f.state_dir, "State directory (default $TETHER_STATE_DIR, else $XDG_STATE_HOME/tether)");
    app.add_option("--socket", f.socket_path, "Control socket (default $TETHER_SOCKET, else $XDG_RUNTIME_DIR/tether/tetherd.sock)");
    app.add_option("--config", f.config_path, "Configuration file (default $TETHER_CONFIG, else $XDG_CONFIG_HOME/tether/config.yaml if present)");
    app.add_flag("--check-config", f.check_only, "Check the configuration file, print every error, and exit");
    app.add_flag("--daemonize", f.daemonize, "Detach into the background; log to tetherd.log in the state directory");
    app.add_flag("--rebuild", f.rebuild, "Rebuild every projection from the event log, then exit");
    auto* flush_opt = app.add_option("--flush-ms", f.flush_ms, "Group-commit interval in milliseconds (overrides the config)")
                          ->check(CLI::Range(0, 1000));
    app.add_option("--frame-timeout-ms", f.frame_timeout_ms, "How long a client may take to finish a frame")
        ->check(CLI::Range(10, 600000));
    app.add_option("--holder-window", f.holder_window,
                   "Output bytes a session's holder keeps for the daemon before the program is left to block")
        ->check(CLI::Range(size_t(4096), size_t(64) << 20));
    app.set_version_flag("--version", "tetherd " TETHER_VERSION);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    f.flush_given = flush_opt->count() > 0;
    return std::nullopt;
}

int fail(const std::string& message) {
    std::fprintf(stderr, "tetherd: %s\n", message.c_str());
    return 1;
}

// tetherd --rebuild: the projections rewritten from the log, with the daemon stopped.
int rebuild_projections(const Paths& paths) {
    if (auto s = ensure_private_dir(paths.state_dir); !s) return fail(s.error().message);
    auto lock = LockFile::acquire(paths.lock_file());
    if (!lock) return fail(lock.error().message);
    auto log = EventLog::open(paths.event_log());
    if (!log) return fail(log.error().message);
    Projections p;
    if (auto s = p.rebuild(**log); !s) return fail("rebuild failed: " + s.error().message);
    std::printf("rebuilt projections from %lld events: %zu sessions\n",
                static_cast<long long>((*log)->durable_seq()), p.sessions().sessions.size());
    return 0;
}

// Starts the daemon (in the background with daemonize: the starting process learns the
// outcome through the report pipe) and runs its loop.
int run_daemon(const DaemonOptions& options, bool daemonize_flag) {
    int report_fd = -1;
    if (daemonize_flag) {
        if (auto s = ensure_private_dir(options.paths.state_dir); !s) return fail("state directory: " + s.error().message);
        report_fd = daemonize(options.paths.daemon_log());
    }
    auto daemon = Daemon::start(options);
    if (!daemon) {
        if (report_fd < 0) return fail(daemon.error().message);
        log_error(daemon.error().message);
        write_all(report_fd, daemon.error().message);
        return 1;
    }
    if (report_fd >= 0) {
        write_all(report_fd, "ok\n");
        close(report_fd);
    }
    return (*daemon)->run();
}

}  // namespace

int main(int argc, char** argv) {
    Flags flags;
    if (auto rc = parse_flags(argc, argv, flags)) return *rc;

    umask(077);
    signal(SIGPIPE, SIG_IGN);
    // Output passes through in 64 KiB chunks on two threads; glibc's adaptive thresholds
    // would keep freed chunks around and let RSS swing far above the live heap (measured:
    // a 29 MB heap peak with RSS peaks near 90 MB). Fixed thresholds return them.
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
    mallopt(M_ARENA_MAX, 2);
    DaemonOptions options;
    options.paths = resolve_paths(flags.state_dir, flags.socket_path, flags.config_path);
    auto config = load_config(options.paths.config_path);
    if (!config) return fail(config.error().message);
    if (flags.check_only) {
        std::printf("%s: ok\n", options.paths.config_path.empty() ? "(no configuration file; defaults)" : options.paths.config_path.c_str());
        return 0;
    }
    options.config = *config;
    options.store.flush_interval_ms = flags.flush_given ? flags.flush_ms : config->flush_ms;
    options.sessions.client_high_water = config->client_buffer_kib * 1024;
    options.sessions.attach_history_lines = config->history_lines;
    options.screen.history_lines = config->history_lines;
    options.sessions.permission_wait_s = config->permission_wait_s;
    options.control.frame_timeout_ms = flags.frame_timeout_ms;
    options.sessions.holder_window = flags.holder_window;
    if (flags.rebuild) return rebuild_projections(options.paths);
    return run_daemon(options, flags.daemonize);
}
