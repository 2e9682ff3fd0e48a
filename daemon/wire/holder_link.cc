// HolderLink: starting and reaching holders, and the framed socket to one.
#include "wire/holder_link.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <vector>

extern char** environ;

namespace tether {

namespace {

int64_t monotonic_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

}  // namespace

std::string holders_dir_for(const std::string& control_socket) {
    std::string base = control_socket;
    if (base.size() > 5 && base.ends_with(".sock")) base.resize(base.size() - 5);
    return base + "-holders";
}

std::string holder_socket_path(const std::string& holders_dir, int64_t session) {
    return holders_dir + "/" + std::to_string(session) + ".sock";
}

Result<std::vector<std::pair<int64_t, std::string>>> list_holder_sockets(const std::string& holders_dir) {
    std::vector<std::pair<int64_t, std::string>> sockets;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(holders_dir, ec)) {
        std::string name = entry.path().filename().string();
        if (!name.ends_with(".sock")) continue;
        std::string digits = name.substr(0, name.size() - 5);
        if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) continue;
        sockets.emplace_back(std::stoll(digits), entry.path().string());
    }
    if (ec) return Error{"holders directory " + holders_dir + ": " + ec.message()};
    std::sort(sockets.begin(), sockets.end());
    return sockets;
}

HolderLink::~HolderLink() {
    if (m_fd >= 0) close(m_fd);
}

Result<std::unique_ptr<HolderLink>> HolderLink::start(const HolderStart& req) {
    if (req.spawn.argv.empty() || req.spawn.argv[0].empty()) return errno_error("pty: exec \"\" failed", ENOENT);
    if (req.socket_path.size() >= sizeof(sockaddr_un::sun_path))
        return Error{"holder: socket path too long (" + std::to_string(req.socket_path.size()) + " bytes): " + req.socket_path};
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) return errno_error("holder: socketpair failed");
    std::unique_ptr<HolderLink> link(new HolderLink(pair[0]));
    // fd 3 in the holder; dup2 onto 3 clears close-on-exec only when the numbers differ.
    int child_end = pair[1] == 3 ? fcntl(pair[1], F_DUPFD_CLOEXEC, 4) : pair[1];
    if (child_end != pair[1]) close(pair[1]);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, child_end, 3);
    posix_spawn_file_actions_addclosefrom_np(&actions, 4);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::vector<std::string> args = {req.holder_binary, "--session", std::to_string(req.session), "--socket",
                                     req.socket_path, "--state-dir", req.state_dir,
                                     "--window", std::to_string(req.window)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int err = posix_spawn(&pid, req.holder_binary.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(child_end);
    if (err != 0) return errno_error("holder: cannot run " + req.holder_binary, err);

    HolderFields spawn;
    spawn.add("cols", req.spawn.cols).add("rows", req.spawn.rows).add("cwd", req.spawn.cwd).add("umask", req.spawn.umask);
    for (const auto& a : req.spawn.argv) spawn.add("arg", a);
    for (const auto& e : req.spawn.env) spawn.add("env", e);
    std::string frame;
    append_holder_frame(frame, HolderMsg::Spawn, spawn.encode());
    bool sent = write_all(link->m_fd, frame);
    Status hello = sent ? link->read_hello(10000) : errno_error("holder: sending the spawn request failed");
    // The first holder process exits once it has forked the real one off.
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!hello) return hello.error();
    return link;
}

Result<std::unique_ptr<HolderLink>> HolderLink::connect(const std::string& socket_path, int timeout_ms) {
    sockaddr_un addr{};
    if (socket_path.size() >= sizeof addr.sun_path) return Error{"holder: socket path too long: " + socket_path};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno_error("holder: socket failed");
    std::unique_ptr<HolderLink> link(new HolderLink(fd));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        return errno_error("holder: connect to " + socket_path + " failed");
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != getuid())
        return Error{"holder: " + socket_path + " belongs to another user (uid " + std::to_string(cred.uid) + ")"};
    if (auto s = link->read_hello(timeout_ms); !s) return s.error();
    return link;
}

Status HolderLink::read_hello(int timeout_ms) {
    int64_t deadline = monotonic_ms() + timeout_ms;
    char buf[4096];
    for (;;) {
        std::string error;
        if (auto frame = m_reader.next(&error)) {
            if (frame->type == HolderMsg::SpawnFailed) return Error{frame->payload};
            if (frame->type == HolderMsg::Refused) return Error{"holder refused the connection: " + frame->payload};
            if (frame->type != HolderMsg::Hello) return Error{"holder: expected a hello, got message " + std::to_string(int(frame->type))};
            m_hello = HolderHello::from(HolderFields::decode(frame->payload));
            if (m_hello.protocol != k_holder_protocol)
                return Error{"holder speaks protocol " + std::to_string(m_hello.protocol) + ", this daemon " +
                             std::to_string(k_holder_protocol)};
            int flags = fcntl(m_fd, F_GETFL);
            fcntl(m_fd, F_SETFL, flags | O_NONBLOCK);
            return {};
        }
        if (!error.empty()) return Error{"holder: " + error};
        int64_t left = deadline - monotonic_ms();
        if (left <= 0) return Error{"holder: no hello within " + std::to_string(timeout_ms) + " ms"};
        pollfd p{m_fd, POLLIN, 0};
        int r = poll(&p, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        ssize_t n = recv(m_fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("holder: reading its hello failed");
        if (n == 0) return Error{"holder: closed the connection before its hello (it could not start)"};
        m_reader.feed(std::string_view(buf, static_cast<size_t>(n)));
    }
}

void HolderLink::resume(uint64_t offset) { append_holder_frame(m_outgoing, HolderMsg::Resume, holder_offset_payload(offset)); }
void HolderLink::ack(uint64_t offset) { append_holder_frame(m_outgoing, HolderMsg::Ack, holder_offset_payload(offset)); }

void HolderLink::input(std::string_view bytes) {
    while (!bytes.empty()) {  // a paste may exceed one frame
        size_t n = std::min<size_t>(bytes.size(), 64u << 10);
        append_holder_frame(m_outgoing, HolderMsg::Input, bytes.substr(0, n));
        bytes.remove_prefix(n);
    }
}

void HolderLink::resize(int cols, int rows) {
    append_holder_frame(m_outgoing, HolderMsg::Resize, HolderFields().add("cols", cols).add("rows", rows).encode());
}

void HolderLink::signal(int sig) {
    append_holder_frame(m_outgoing, HolderMsg::Signal, HolderFields().add("signal", sig).encode());
}

void HolderLink::collect() { append_holder_frame(m_outgoing, HolderMsg::Collect, ""); }

void HolderLink::rebind(int64_t session, const std::string& state_dir, const std::string& socket_path) {
    append_holder_frame(m_outgoing, HolderMsg::Rebind,
                        HolderFields().add("session", session).add("state_dir", state_dir).add("socket", socket_path).encode());
    m_hello.produced -= m_hello.acked;
    m_hello.acked = 0;
    m_hello.session = session;
    m_hello.state_dir = state_dir;
}

bool HolderLink::write() {
    while (!m_outgoing.empty()) {
        ssize_t n = send(m_fd, m_outgoing.data(), m_outgoing.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        if (n <= 0) return false;
        m_outgoing.erase(0, static_cast<size_t>(n));
    }
    return true;
}

bool HolderLink::read(size_t max_bytes) {
    char buf[64 << 10];
    size_t total = 0;
    while (total < max_bytes) {
        ssize_t n = recv(m_fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        if (n <= 0) return false;
        m_reader.feed(std::string_view(buf, static_cast<size_t>(n)));
        total += static_cast<size_t>(n);
    }
    return true;
}

}  // namespace tether
