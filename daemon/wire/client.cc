// Control-socket client.
#include "wire/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

namespace tether {

namespace {

Result<int> connect_unix(const std::string& path, int* err_out) {
    *err_out = 0;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return Error{"socket path too long: " + path};
    std::copy(path.begin(), path.end(), addr.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno_error("socket");
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        int err = errno;
        close(fd);
        *err_out = err;
        return errno_error("connect " + path, err);
    }
    return fd;
}

}  // namespace

std::string tetherd_path() {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        auto candidate = self.parent_path() / "tetherd";
        if (std::filesystem::exists(candidate, ec)) return candidate.string();
    }
    return "tetherd";
}

Status start_daemon(const Paths& paths) {
    std::string exe = tetherd_path();
    std::vector<std::string> args{exe, "--daemonize", "--state-dir", paths.state_dir, "--socket", paths.socket_path};
    if (!paths.config_path.empty()) {
        args.push_back("--config");
        args.push_back(paths.config_path);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) return errno_error("fork");
    if (pid == 0) {
        execvp(argv[0], argv.data());
        std::fprintf(stderr, "tether: cannot run %s: %s\n", argv[0], std::strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    // tetherd --daemonize returns only once the daemon is listening, or with its error on stderr.
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return Error{"could not start the daemon (see above)"};
    return {};
}

Result<Client> Client::connect(const Paths& paths, bool autostart) {
    int err = 0;
    auto fd = connect_unix(paths.socket_path, &err);
    if (!fd && autostart && (err == ENOENT || err == ECONNREFUSED)) {
        if (auto s = start_daemon(paths); !s) return s.error();
        fd = connect_unix(paths.socket_path, &err);
    }
    if (!fd) return Error{"daemon not reachable: " + fd.error().message};
    Client c(*fd);
    if (auto s = c.send_frame(FrameType::Json, dump_json(make_hello("tether"))); !s) return s.error();
    auto frame = c.read_frame(10000);
    if (!frame) return frame.error();
    if (!*frame) return Error{"daemon did not answer the hello within 10 s"};
    auto hello = parse_json_object((*frame)->body);
    if (!hello) return hello.error();
    if (hello->value("ok", true) == false) return Error{hello->value("error", "daemon refused the connection")};
    if (auto s = check_hello(*hello, "daemon"); !s) return s.error();
    return c;
}

Client::~Client() {
    if (m_fd >= 0) close(m_fd);
}

Status Client::send_frame(FrameType type, std::string_view body) {
    std::string frame = encode_frame(type, body);
    size_t off = 0;
    while (off < frame.size()) {
        ssize_t n = send(m_fd, frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("send to daemon");
        off += static_cast<size_t>(n);
    }
    return {};
}

Result<std::optional<Frame>> Client::take_buffered_frame() {
    auto* data = reinterpret_cast<const uint8_t*>(m_buf.data());
    FrameScan scan = scan_frame(data, m_buf.size());
    if (scan.kind == FrameScan::Invalid) return Error{"daemon sent a bad frame: " + scan.error};
    if (scan.kind == FrameScan::NeedMore) return std::optional<Frame>{};
    Frame f = decode_frame(data, scan.frame_size);
    m_buf.erase(0, scan.frame_size);
    return std::optional<Frame>(std::move(f));
}

Result<std::optional<Frame>> Client::read_frame(int timeout_ms) {
    for (;;) {
        auto buffered = take_buffered_frame();
        if (!buffered || *buffered) return buffered;
        pollfd p{m_fd, POLLIN, 0};
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return errno_error("poll");
        if (r == 0) return std::optional<Frame>{};
        char buf[65536];
        ssize_t n = recv(m_fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("read from daemon");
        if (n == 0) return Error{"the daemon closed the connection"};
        m_buf.append(buf, static_cast<size_t>(n));
    }
}

Result<nlohmann::json> Client::request(nlohmann::json req) {
    int64_t id = m_next_id++;
    req["id"] = id;
    if (auto s = send_frame(FrameType::Json, dump_json(req)); !s) return s.error();
    for (;;) {
        auto frame = read_frame(-1);
        if (!frame) return frame.error();
        if ((*frame)->type != FrameType::Json) continue;
        auto reply = parse_json_object((*frame)->body);
        if (!reply) return reply.error();
        bool matches = reply->contains("id") && (*reply)["id"] == id;
        if (!matches && !reply->value("fatal", false)) continue;  // a stream notice
        if (!reply->value("ok", false)) return Error{reply->value("error", "request failed")};
        return *reply;
    }
}

}  // namespace tether
