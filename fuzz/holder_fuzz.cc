// Fuzz target `holder`: frames sent to a session's holder by whoever connects to its
// socket (a daemon, `tether doctor`, any process of the user), into a real Holder with a
// real PTY running cat: resume and acknowledgement offsets, input, resizes, signals,
// rebinding, collection, and the holder's frame reader and fields. Input: a flag byte
// (bit 0: resume first at the offset the hello gives, as a daemon does), then holder
// frames (u8 type | u32 length | payload), possibly malformed. Rebind's socket is
// pointed into the scratch directory, so an input can never move a file elsewhere.
// Findings: crashes, sanitizer reports, a holder that stops answering.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>

#include "fuzz_support.h"
#include "fuzz_target.h"
#include "holder.h"
#include "wire/holder_protocol.h"

using namespace tether;

namespace {

int listen_at(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::copy(path.begin(), path.end(), addr.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    unlink(path.c_str());
    FUZZ_CHECK(fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && listen(fd, 4) == 0,
               "listen at " + path);
    return fd;
}

struct Rig {
    std::string paths[2];
    std::unique_ptr<Holder> holder;
    pid_t agent = 0;

    Rig() {
        paths[0] = fuzz::scratch_dir() + "/h1.sock";
        paths[1] = fuzz::scratch_dir() + "/h2.sock";
        signal(SIGPIPE, SIG_IGN);
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_BLOCK, &chld, nullptr);
    }
    ~Rig() { end(); }

    const std::string& current_path() const {
        struct stat st {};
        return stat(paths[1].c_str(), &st) == 0 ? paths[1] : paths[0];
    }

    void start() {
        unlink(paths[1].c_str());
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        int sigchld_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
        FUZZ_CHECK(sigchld_fd >= 0, "signalfd");
        int listen_fd = listen_at(paths[0]);
        auto pty = PtyProcess::spawn(SpawnRequest{.argv = {"/bin/cat"}, .env = {"PATH=/bin:/usr/bin"}});
        if (!pty) fuzz::check_failed("spawn cat", pty.error().message, __FILE__, __LINE__);
        agent = (*pty)->pid();
        HolderOptions o{.session = 7, .socket_path = paths[0], .state_dir = fuzz::scratch_dir(), .window = 64u << 10,
                        .argv = {"/bin/cat"}, .cwd = ""};
        holder = std::make_unique<Holder>(std::move(o), std::move(*pty), listen_fd, -1, sigchld_fd);
    }

    void end() {
        if (!holder) return;
        holder.reset();
        kill(agent, SIGKILL);
        waitpid(agent, nullptr, 0);
        unlink(paths[0].c_str());
        unlink(paths[1].c_str());
    }
};

// Frames as the input gives them, Rebind's socket pointed at the other scratch path;
// a malformed tail goes as it is.
std::string frames_of(std::string_view bytes, const Rig& rig) {
    HolderFrameReader reader;
    reader.feed(bytes);
    std::string out, error;
    size_t taken = 0;
    while (auto f = reader.next(&error)) {
        taken += 5 + f->payload.size();
        if (f->type == HolderMsg::Rebind) {
            auto fields = HolderFields::decode(f->payload);
            std::string other = rig.current_path() == rig.paths[0] ? rig.paths[1] : rig.paths[0];
            HolderFields safe;
            safe.add("session", fields.get_int("session")).add("state_dir", fields.get("state_dir")).add("socket", other);
            f->payload = safe.encode();
        }
        append_holder_frame(out, f->type, f->payload);
    }
    out.append(bytes.substr(taken));
    return out;
}

}  // namespace

TETHER_FUZZ_TARGET(holder) {
    static Rig rig;
    fuzz::FuzzInput in(data, size);
    bool resume = in.flag();
    std::string_view rest = in.rest();
    if (!rig.holder) rig.start();

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string& path = rig.current_path();
    std::copy(path.begin(), path.end(), addr.sun_path);
    FUZZ_CHECK(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "connect to the holder");

    HolderFrameReader reader;
    std::string error;
    std::optional<HolderHello> hello;
    auto started = std::chrono::steady_clock::now();
    auto pump = [&](int turns) {
        for (int i = 0; i < turns; ++i) {
            rig.holder->turn(0);
            char buf[65536];
            ssize_t n;
            while ((n = recv(fd, buf, sizeof buf, 0)) > 0) reader.feed(std::string_view(buf, static_cast<size_t>(n)));
            while (auto f = reader.next(&error))
                if (f->type == HolderMsg::Hello) hello = HolderHello::from(HolderFields::decode(f->payload));
            FUZZ_CHECK(error.empty(), "the holder sends well-formed frames: " + error);
        }
    };
    while (!hello && std::chrono::steady_clock::now() - started < std::chrono::seconds(10)) pump(1);
    FUZZ_CHECK(hello.has_value(), "the holder greets a new connection");

    std::string out;
    if (resume) append_holder_frame(out, HolderMsg::Resume, holder_offset_payload(hello->acked));
    out += frames_of(rest, rig);
    size_t sent = 0;
    for (int i = 0; i < 200 && sent < out.size(); ++i) {
        ssize_t n = send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n > 0) sent += static_cast<size_t>(n);
        else if (n < 0 && errno != EAGAIN) break;  // refused and dropped: fine
        pump(1);
    }
    pump(8);
    close(fd);
    pump(4);
    if (rig.holder->collected() || hello->exited) rig.end();
    return 0;
}
