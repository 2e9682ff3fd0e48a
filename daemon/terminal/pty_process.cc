// PtyProcess: opens the PTY pair, forks, and execs with execvp's PATH rules. Everything
// the child needs is built before fork; after fork the child makes only
// async-signal-safe calls and reports a failed step through a close-on-exec pipe.
#include "terminal/pty_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <utility>

#include "base/bug.h"

namespace tether {
namespace {

class Fd {
public:
    explicit Fd(int fd = -1) : m_fd(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;

    int get() const { return m_fd; }
    int release() { return std::exchange(m_fd, -1); }
    void reset(int fd = -1) {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = fd;
    }

private:
    int m_fd;
};

// The child's report through the error pipe, written once before _exit(127).
enum class Step : int { setsid, controlling_tty, dup2, close_fds, chdir, exec };
struct ChildFailure {
    Step step;
    int err;
};

// Everything the child touches after fork: it may not allocate there.
struct ExecPlan {
    std::vector<std::string> candidates;  // paths to execve, in order
    // nullptr-terminated; they point into the request, which outlives the fork.
    std::vector<char*> argv;
    std::vector<char*> envp;
    std::vector<char*> sh_argv;  // {"/bin/sh", <candidate>, argv[1..]}: execvp's ENOEXEC fallback
    const char* cwd = nullptr;
    int umask = -1;
    int max_fd = 0;  // for the close loop on kernels without close_range
};

bool valid_size(int cols, int rows) {
    return cols > 0 && rows > 0 && cols <= USHRT_MAX && rows <= USHRT_MAX;
}

int set_size(int master, int cols, int rows) {
    winsize ws{};
    ws.ws_col = static_cast<unsigned short>(cols);
    ws.ws_row = static_cast<unsigned short>(rows);
    return ioctl(master, TIOCSWINSZ, &ws);
}

std::string search_path(const std::vector<std::string>& env) {
    for (const std::string& kv : env)
        if (kv.starts_with("PATH=")) return kv.substr(5);
    if (const char* path = std::getenv("PATH")) return path;
    return "/bin:/usr/bin";  // execvp's default
}

std::vector<std::string> exec_candidates(const std::string& file,
                                         const std::vector<std::string>& env) {
    if (file.find('/') != std::string::npos) return {file};
    std::vector<std::string> out;
    const std::string path = search_path(env);
    for (size_t start = 0;;) {
        size_t end = path.find(':', start);
        std::string dir = path.substr(start, end == std::string::npos ? end : end - start);
        // An empty entry is the current directory: the child's, after its chdir.
        out.push_back(dir.empty() ? file : dir + "/" + file);
        if (end == std::string::npos) return out;
        start = end + 1;
    }
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    // execve takes char* const[] but never writes through them.
    for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

ExecPlan make_plan(const SpawnRequest& req) {
    ExecPlan plan;
    plan.candidates = exec_candidates(req.argv[0], req.env);
    plan.argv = c_strings(req.argv);
    plan.envp = c_strings(req.env);
    plan.sh_argv = {const_cast<char*>("/bin/sh"), nullptr};
    plan.sh_argv.insert(plan.sh_argv.end(), plan.argv.begin() + 1, plan.argv.end());
    if (!req.cwd.empty()) plan.cwd = req.cwd.c_str();
    plan.umask = req.umask;
    long open_max = sysconf(_SC_OPEN_MAX);
    plan.max_fd = open_max > 0 && open_max <= INT_MAX ? static_cast<int>(open_max) : 65536;
    return plan;
}

struct PtyPair {
    Fd master;
    Fd slave;
};

Status open_pty(PtyPair& pty, int cols, int rows) {
    // Close-on-exec from the start: another thread may fork between an open and an fcntl.
    pty.master.reset(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK));
    if (pty.master.get() < 0) return errno_error("pty: posix_openpt failed");
    if (grantpt(pty.master.get()) < 0) return errno_error("pty: grantpt failed");
    if (unlockpt(pty.master.get()) < 0) return errno_error("pty: unlockpt failed");
    // TIOCGPTPEER needs no path, so it works even where /dev/pts is another instance.
    pty.slave.reset(ioctl(pty.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (pty.slave.get() < 0) {
        char name[128];
        if (int err = ptsname_r(pty.master.get(), name, sizeof name); err != 0)
            return errno_error("pty: ptsname failed", err);
        pty.slave.reset(open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
        if (pty.slave.get() < 0) return errno_error("pty: open slave failed");
    }
    if (set_size(pty.master.get(), cols, rows) < 0) return errno_error("pty: set size failed");
    return {};
}

[[noreturn]] void child_fail(int err_fd, Step step) {
    ChildFailure failure{step, errno};
    while (write(err_fd, &failure, sizeof failure) < 0 && errno == EINTR) {
    }
    _exit(127);
}

// Runs in the forked child with every signal blocked. Async-signal-safe calls only.
[[noreturn]] void run_child(ExecPlan& plan, int slave, int err_fd) {
    // The daemon may run with stdio closed, so these can sit on 0-2 where dup2 lands.
    if (err_fd < 3) err_fd = fcntl(err_fd, F_DUPFD_CLOEXEC, 3);
    if (slave < 3) slave = fcntl(slave, F_DUPFD_CLOEXEC, 3);
    if (slave < 0) child_fail(err_fd, Step::dup2);

    if (setsid() < 0) child_fail(err_fd, Step::setsid);
    if (ioctl(slave, TIOCSCTTY, 0) < 0) child_fail(err_fd, Step::controlling_tty);
    for (int fd = 0; fd < 3; ++fd)
        if (dup2(slave, fd) < 0) child_fail(err_fd, Step::dup2);

    // Libraries open fds without O_CLOEXEC; none of them is the agent's business.
    if (err_fd != 3) {
        if (dup3(err_fd, 3, O_CLOEXEC) < 0) child_fail(err_fd, Step::dup2);
        err_fd = 3;
    }
    if (close_range(4, ~0U, 0) < 0) {
        if (errno != ENOSYS) child_fail(err_fd, Step::close_fds);
        for (int fd = 4; fd < plan.max_fd; ++fd) close(fd);
    }

    if (plan.cwd && chdir(plan.cwd) < 0) child_fail(err_fd, Step::chdir);
    if (plan.umask >= 0) umask(static_cast<mode_t>(plan.umask));

    // Ignored signals and the mask survive exec: reset what the daemon set, then unblock.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);

    // execvp's loop: skip entries that are missing, remember a denial, stop on anything else.
    bool denied = false;
    for (const std::string& candidate : plan.candidates) {
        execve(candidate.c_str(), plan.argv.data(), plan.envp.data());
        if (errno == ENOEXEC) {
            plan.sh_argv[1] = const_cast<char*>(candidate.c_str());
            execve("/bin/sh", plan.sh_argv.data(), plan.envp.data());
            errno = ENOEXEC;
        }
        switch (errno) {
        case EACCES:
            denied = true;
            break;
        case ENOENT:
        case ENOTDIR:
        case ESTALE:
        case ENODEV:
        case EHOSTUNREACH:
        case ETIMEDOUT:
            break;
        default:
            child_fail(err_fd, Step::exec);
        }
    }
    if (denied) errno = EACCES;
    child_fail(err_fd, Step::exec);
}

// Blocks until the child has exec'd (EOF: the pipe closed on exec) or reported a failure.
bool read_failure(int fd, ChildFailure& failure) {
    char* dst = reinterpret_cast<char*>(&failure);
    size_t got = 0;
    while (got < sizeof failure) {
        ssize_t n = read(fd, dst + got, sizeof failure - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
    }
    return got == sizeof failure;
}

Error failure_error(const ChildFailure& failure, const SpawnRequest& req) {
    switch (failure.step) {
    case Step::setsid:
        return errno_error("pty: setsid failed", failure.err);
    case Step::controlling_tty:
        return errno_error("pty: TIOCSCTTY failed", failure.err);
    case Step::dup2:
        return errno_error("pty: dup2 failed", failure.err);
    case Step::close_fds:
        return errno_error("pty: close_range failed", failure.err);
    case Step::chdir:
        return errno_error("pty: chdir \"" + req.cwd + "\" failed", failure.err);
    case Step::exec:
        return errno_error("pty: exec \"" + req.argv[0] + "\" failed", failure.err);
    }
    TETHER_BUG("unknown child failure step");
}

void wait_blocking(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

PtyProcess::Exit decode(int status) {
    if (WIFEXITED(status)) return {false, WEXITSTATUS(status), false};
    if (WIFSIGNALED(status)) return {true, WTERMSIG(status), WCOREDUMP(status) != 0};
    TETHER_BUG("waitpid reported neither exit nor signal");
}

}  // namespace

Result<std::unique_ptr<PtyProcess>> PtyProcess::spawn(const SpawnRequest& req) {
    if (req.argv.empty()) return Error{"pty: spawn failed: empty argv"};
    if (req.argv[0].empty()) return errno_error("pty: exec \"\" failed", ENOENT);
    if (!valid_size(req.cols, req.rows)) return Error{"pty: spawn failed: bad terminal size"};

    ExecPlan plan = make_plan(req);
    PtyPair pty;
    if (auto r = open_pty(pty, req.cols, req.rows); !r) return r.error();
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) < 0) return errno_error("pty: pipe failed");
    Fd err_read(pipe_fds[0]);
    Fd err_write(pipe_fds[1]);

    // With every signal blocked across fork, no daemon handler can run in the child
    // before it resets the dispositions.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0) run_child(plan, pty.slave.get(), err_write.get());
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (pid < 0) return errno_error("pty: fork failed", fork_errno);

    // Close our write end first, or the read below never sees EOF.
    err_write.reset();
    pty.slave.reset();
    ChildFailure failure{};
    if (read_failure(err_read.get(), failure)) {
        wait_blocking(pid);
        return failure_error(failure, req);
    }
    return std::unique_ptr<PtyProcess>(new PtyProcess(pty.master.release(), pid));
}

PtyProcess::~PtyProcess() {
    close(m_master);
    try_reap();
}

Status PtyProcess::resize(int cols, int rows) {
    if (!valid_size(cols, rows)) return Error{"pty: resize failed: bad terminal size"};
    if (set_size(m_master, cols, rows) < 0) return errno_error("pty: resize failed");
    return {};
}

Status PtyProcess::signal(int sig) {
    if (m_exit) return errno_error("pty: signal failed", ESRCH);
    // The child leads its session, so its process group id is its pid.
    if (kill(-m_pid, sig) < 0) return errno_error("pty: signal failed");
    return {};
}

std::optional<PtyProcess::Exit> PtyProcess::try_reap() {
    if (m_exit) return m_exit;
    int status = 0;
    pid_t r;
    while ((r = waitpid(m_pid, &status, WNOHANG)) < 0 && errno == EINTR) {
    }
    if (r == 0) return std::nullopt;
    if (r < 0) TETHER_BUG("waitpid on a PtyProcess child failed: reaped elsewhere?");
    m_exit = decode(status);
    return m_exit;
}

}  // namespace tether
