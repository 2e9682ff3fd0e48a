// Tests for PtyProcess on real PTYs. Waits are bounded by poll() timeouts that act only
// as safety limits; nothing asserts on timing.
#include "terminal/pty_process.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace tether {
namespace {

constexpr int k_safety_ms = 5000;

std::vector<std::string> base_env() { return {std::string("PATH=") + std::getenv("PATH")}; }

std::unique_ptr<PtyProcess> spawn_ok(SpawnRequest req) {
    if (req.env.empty()) req.env = base_env();
    auto r = PtyProcess::spawn(req);
    if (!r) FAIL("spawn failed: " << r.error().message);
    return std::move(r).value();
}

// Reads the master until EIO (the PTY's EOF once every slave fd is closed).
std::string read_until_eof(int fd) {
    std::string out;
    for (;;) {
        pollfd pfd{fd, POLLIN, 0};
        int n = poll(&pfd, 1, k_safety_ms);
        REQUIRE_MESSAGE(n > 0, "no output or EOF within the safety limit; got: " << out);
        char buf[4096];
        ssize_t got = read(fd, buf, sizeof buf);
        if (got > 0) {
            out.append(buf, static_cast<size_t>(got));
        } else if (got == 0 || errno == EIO) {
            return out;
        } else {
            REQUIRE_MESSAGE((errno == EAGAIN || errno == EINTR), "read: " << strerror(errno));
        }
    }
}

// Reads until `needle` has appeared.
std::string read_until(int fd, const std::string& needle) {
    std::string out;
    while (out.find(needle) == std::string::npos) {
        pollfd pfd{fd, POLLIN, 0};
        REQUIRE_MESSAGE(poll(&pfd, 1, k_safety_ms) > 0, "waiting for " << needle << "; got: " << out);
        char buf[4096];
        ssize_t got = read(fd, buf, sizeof buf);
        if (got > 0) out.append(buf, static_cast<size_t>(got));
        else REQUIRE_MESSAGE((errno == EAGAIN || errno == EINTR), "read: " << strerror(errno));
    }
    return out;
}

PtyProcess::Exit wait_exit(PtyProcess& p) {
    for (int waited = 0; waited < k_safety_ms; waited += 10) {
        if (auto e = p.try_reap()) return *e;
        poll(nullptr, 0, 10);
    }
    FAIL("child did not exit within the safety limit");
    return {};
}

// Runs to completion: output until EOF, then the exit.
std::string run(SpawnRequest req, PtyProcess::Exit* exit = nullptr) {
    auto p = spawn_ok(std::move(req));
    std::string out = read_until_eof(p->master_fd());
    PtyProcess::Exit e = wait_exit(*p);
    if (exit) *exit = e;
    return out;
}

// The children of this thread, zombies included.
std::string children() {
    std::ifstream f("/proc/self/task/" + std::to_string(gettid()) + "/children");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Gone, or a zombie that its new parent has yet to reap.
bool dead(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    size_t paren = stat.rfind(')');
    return paren == std::string::npos || stat.substr(paren + 2, 1) == "Z";
}

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/pty_process_test.XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        char* real = realpath(tmpl, nullptr);
        path = real;
        free(real);
    }
    ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
    std::string write(const std::string& name, const std::string& text, mode_t mode) {
        std::string file = path + "/" + name;
        std::ofstream(file) << text;
        chmod(file.c_str(), mode);
        return file;
    }
};

std::string spawn_error(SpawnRequest req) {
    if (req.env.empty()) req.env = base_env();
    std::string before = children();
    auto r = PtyProcess::spawn(req);
    REQUIRE_FALSE(r);
    CHECK(children() == before);  // the failed child was reaped: no zombie left
    return r.error().message;
}

}  // namespace

TEST_CASE("echo output arrives through the master") {
    PtyProcess::Exit e;
    CHECK(run({.argv = {"echo", "hello"}}, &e) == "hello\r\n");
    CHECK(e == PtyProcess::Exit{false, 0, false});
}

TEST_CASE("an exit code is decoded") {
    PtyProcess::Exit e;
    run({.argv = {"sh", "-c", "exit 3"}}, &e);
    CHECK(e == PtyProcess::Exit{false, 3, false});
}

TEST_CASE("signal() delivers SIGTERM and the death is decoded as signaled") {
    auto p = spawn_ok({.argv = {"sleep", "30"}});
    CHECK_FALSE(p->try_reap());
    REQUIRE(p->signal(SIGTERM));
    read_until_eof(p->master_fd());
    CHECK(wait_exit(*p) == PtyProcess::Exit{true, SIGTERM, false});
    CHECK(p->try_reap() == PtyProcess::Exit{true, SIGTERM, false});
    CHECK_FALSE(p->signal(SIGTERM));  // reaped: the pid may be someone else's now
}

TEST_CASE("signal() reaches the whole process group, not just the leader") {
    // The sleep ignores the SIGHUP of the hangup when sh dies: only our signal ends it.
    auto p = spawn_ok({.argv = {"sh", "-c", "trap '' HUP; sleep 30 & echo \"pid=$!;\"; wait"}});
    std::string out = read_until(p->master_fd(), ";");
    pid_t sleeper = std::stoi(out.substr(out.find("pid=") + 4));
    REQUIRE(p->signal(SIGKILL));
    read_until_eof(p->master_fd());
    CHECK(wait_exit(*p) == PtyProcess::Exit{true, SIGKILL, false});
    bool gone = false;
    for (int waited = 0; !gone && waited < k_safety_ms; waited += 10) {
        gone = dead(sleeper);
        if (!gone) poll(nullptr, 0, 10);
    }
    CHECK(gone);
}

TEST_CASE("a missing command is an error naming it, with no zombie left") {
    std::string msg = spawn_error({.argv = {"tether-no-such-command"}});
    CHECK(msg.find("\"tether-no-such-command\"") != std::string::npos);
    CHECK(msg.find("No such file or directory") != std::string::npos);
    msg = spawn_error({.argv = {"/nonexistent/tether-cmd"}});
    CHECK(msg.find("No such file or directory") != std::string::npos);
}

TEST_CASE("a non-executable file is Permission denied, by path and through PATH") {
    TempDir dir;
    std::string file = dir.write("noexec", "#!/bin/sh\necho hi\n", 0644);
    std::string msg = spawn_error({.argv = {file}});
    CHECK(msg.find(file) != std::string::npos);
    CHECK(msg.find("Permission denied") != std::string::npos);
    // A later miss does not hide the denial (execvp's rule).
    msg = spawn_error({.argv = {"noexec"}, .env = {"PATH=" + dir.path + ":/nonexistent"}});
    CHECK(msg.find("Permission denied") != std::string::npos);
}

TEST_CASE("a missing cwd is an error naming it") {
    std::string msg = spawn_error({.argv = {"true"}, .cwd = "/nonexistent-tether-dir"});
    CHECK(msg.find("chdir") != std::string::npos);
    CHECK(msg.find("/nonexistent-tether-dir") != std::string::npos);
    CHECK(msg.find("No such file or directory") != std::string::npos);
}

TEST_CASE("an empty argv is an error") {
    CHECK_FALSE(PtyProcess::spawn({}));
    CHECK_FALSE(PtyProcess::spawn({.argv = {""}, .env = base_env()}));
}

TEST_CASE("cwd is applied") {
    TempDir dir;
    CHECK(run({.argv = {"pwd"}, .cwd = dir.path}) == dir.path + "\r\n");
}

TEST_CASE("the child gets exactly the environment given, not the daemon's") {
    setenv("TETHER_PARENT_ONLY", "1", 1);
    std::vector<std::string> env = base_env();
    env.push_back("FOO=bar");
    CHECK(run({.argv = {"env"}, .env = env}) == env[0] + "\r\nFOO=bar\r\n");
    unsetenv("TETHER_PARENT_ONLY");
}

TEST_CASE("argv[0] is searched in the PATH of the given env, else the daemon's") {
    TempDir dir;
    dir.write("tether-test-cmd", "#!/bin/sh\necho found \"$@\"\n", 0755);
    CHECK(run({.argv = {"tether-test-cmd", "a b"}, .env = {"PATH=/nonexistent:" + dir.path}}) ==
          "found a b\r\n");
    CHECK(run({.argv = {"echo", "x"}, .env = {"FOO=bar"}}) == "x\r\n");
}

TEST_CASE("a script without #! runs through /bin/sh, like execvp") {
    TempDir dir;
    std::string file = dir.write("bare", "echo from-sh \"$1\"\n", 0755);
    CHECK(run({.argv = {file, "arg"}}) == "from-sh arg\r\n");
}

TEST_CASE("the size is applied before exec, and resize is seen by the child") {
    CHECK(run({.argv = {"stty", "size"}, .cols = 132, .rows = 43}) == "43 132\r\n");

    auto p = spawn_ok({.argv = {"sh", "-c", "echo ready; read x; stty size"}});
    read_until(p->master_fd(), "ready");
    REQUIRE(p->resize(100, 40));
    REQUIRE(write(p->master_fd(), "\n", 1) == 1);
    CHECK(read_until_eof(p->master_fd()).find("40 100\r\n") != std::string::npos);
    CHECK(wait_exit(*p) == PtyProcess::Exit{false, 0, false});
    CHECK_FALSE(p->resize(0, 10));
}

TEST_CASE("the child leads a session with the PTY as its controlling terminal") {
    auto p = spawn_ok({.argv = {"sh", "-c", "echo ready; tty; read x"}});
    read_until(p->master_fd(), "/dev/pts/");
    CHECK(getsid(p->pid()) == p->pid());
    CHECK(getpgid(p->pid()) == p->pid());
    REQUIRE(p->signal(SIGKILL));
    read_until_eof(p->master_fd());
    wait_exit(*p);
}

TEST_CASE("the master is close-on-exec and non-blocking") {
    auto p = spawn_ok({.argv = {"true"}});
    CHECK((fcntl(p->master_fd(), F_GETFD) & FD_CLOEXEC) != 0);
    CHECK((fcntl(p->master_fd(), F_GETFL) & O_NONBLOCK) != 0);
    read_until_eof(p->master_fd());
    wait_exit(*p);
}

TEST_CASE("the child inherits no fd but stdio, even one opened without CLOEXEC") {
    int leaked = open("/dev/null", O_RDONLY);
    REQUIRE(leaked >= 0);
    REQUIRE(dup2(leaked, 100) == 100);
    CHECK(run({.argv = {"sh", "-c", "ls -1 /proc/$$/fd"}}) == "0\r\n1\r\n2\r\n");
    close(100);
    close(leaked);
}

TEST_CASE("the child's signal mask is empty and no signal is ignored") {
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    REQUIRE(pthread_sigmask(SIG_BLOCK, &term, &old) == 0);
    struct sigaction ign {}, old_pipe {};
    ign.sa_handler = SIG_IGN;
    REQUIRE(sigaction(SIGPIPE, &ign, &old_pipe) == 0);

    std::string out = run({.argv = {"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"}});

    sigaction(SIGPIPE, &old_pipe, nullptr);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    CHECK(out == "SigBlk:\t0000000000000000\r\nSigIgn:\t0000000000000000\r\n");
}

}  // namespace tether
