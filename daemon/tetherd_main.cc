// tetherd: flags, daemonizing, and the run. Everything else lives in daemon.cc.
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
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

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tetherd: the tether daemon. It owns the agents' terminals and the event log."};
    std::string state_dir, socket_path, config_path;
    bool daemonize_flag = false, rebuild = false;
    long flush_ms = 5, frame_timeout_ms = 10000;
    size_t holder_window = 1u << 20;
    app.add_option("--state-dir", state_dir, "State directory (default $TETHER_STATE_DIR, else $XDG_STATE_HOME/tether)");
    app.add_option("--socket", socket_path, "Control socket (default $TETHER_SOCKET, else $XDG_RUNTIME_DIR/tether/tetherd.sock)");
    app.add_option("--config", config_path, "Configuration file (default $TETHER_CONFIG, else $XDG_CONFIG_HOME/tether/config.yaml if present)");
    bool check_only = false;
    app.add_flag("--check-config", check_only, "Check the configuration file, print every error, and exit");
    app.add_flag("--daemonize", daemonize_flag, "Detach into the background; log to tetherd.log in the state directory");
    app.add_flag("--rebuild", rebuild, "Rebuild every projection from the event log, then exit");
    auto* flush_opt = app.add_option("--flush-ms", flush_ms, "Group-commit interval in milliseconds (overrides the config)")
                          ->check(CLI::Range(0, 1000));
    app.add_option("--frame-timeout-ms", frame_timeout_ms, "How long a client may take to finish a frame")
        ->check(CLI::Range(10, 600000));
    app.add_option("--holder-window", holder_window,
                   "Output bytes a session's holder keeps for the daemon before the program is left to block")
        ->check(CLI::Range(size_t(4096), size_t(64) << 20));
    app.set_version_flag("--version", "tetherd " TETHER_VERSION);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }

    umask(077);
    signal(SIGPIPE, SIG_IGN);
    // Output passes through in 64 KiB chunks on two threads; glibc's adaptive thresholds
    // would keep freed chunks around and let RSS swing far above the live heap (measured:
    // a 29 MB heap peak with RSS peaks near 90 MB). Fixed thresholds return them.
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
    mallopt(M_ARENA_MAX, 2);
    DaemonOptions options;
    options.paths = resolve_paths(state_dir, socket_path, config_path);
    auto config = load_config(options.paths.config_path);
    if (check_only) {
        if (!config) {
            std::fprintf(stderr, "tetherd: %s\n", config.error().message.c_str());
            return 1;
        }
        std::printf("%s: ok\n", options.paths.config_path.empty() ? "(no configuration file; defaults)" : options.paths.config_path.c_str());
        return 0;
    }
    if (!config) {
        std::fprintf(stderr, "tetherd: %s\n", config.error().message.c_str());
        return 1;
    }
    options.config = *config;
    options.store.flush_interval_ms = flush_opt->count() ? flush_ms : config->flush_ms;
    options.sessions.client_high_water = config->client_buffer_kib * 1024;
    options.sessions.attach_history_lines = config->history_lines;
    options.screen.history_lines = config->history_lines;
    options.sessions.permission_wait_s = config->permission_wait_s;
    options.control.frame_timeout_ms = frame_timeout_ms;
    options.sessions.holder_window = holder_window;

    if (rebuild) {
        if (auto s = ensure_private_dir(options.paths.state_dir); !s) {
            std::fprintf(stderr, "tetherd: %s\n", s.error().message.c_str());
            return 1;
        }
        auto lock = LockFile::acquire(options.paths.lock_file());
        if (!lock) {
            std::fprintf(stderr, "tetherd: %s\n", lock.error().message.c_str());
            return 1;
        }
        auto log = EventLog::open(options.paths.event_log());
        if (!log) {
            std::fprintf(stderr, "tetherd: %s\n", log.error().message.c_str());
            return 1;
        }
        Projections p;
        if (auto s = p.rebuild(**log); !s) {
            std::fprintf(stderr, "tetherd: rebuild failed: %s\n", s.error().message.c_str());
            return 1;
        }
        std::printf("rebuilt projections from %lld events: %zu sessions\n",
                    static_cast<long long>((*log)->durable_seq()), p.sessions().sessions.size());
        return 0;
    }

    int report_fd = -1;
    if (daemonize_flag) {
        if (auto s = ensure_private_dir(options.paths.state_dir); !s) {
            std::fprintf(stderr, "tetherd: state directory: %s\n", s.error().message.c_str());
            return 1;
        }
        report_fd = daemonize(options.paths.daemon_log());
    }

    auto daemon = Daemon::start(options);
    if (!daemon) {
        if (report_fd >= 0) {
            log_error(daemon.error().message);
            write_all(report_fd, daemon.error().message);
        } else {
            std::fprintf(stderr, "tetherd: %s\n", daemon.error().message.c_str());
        }
        return 1;
    }
    if (report_fd >= 0) {
        write_all(report_fd, "ok\n");
        close(report_fd);
    }
    return (*daemon)->run();
}
