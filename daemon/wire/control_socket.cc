// Control socket: listener, connections, framing, limits.
#include "wire/control_socket.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"

namespace tether {

namespace {
constexpr size_t k_low_watermark = 64u << 10;
}

Connection::Connection(ControlServer& server, uint64_t id, bufferevent* bev, uid_t uid, pid_t pid)
    : m_server(server), m_id(id), m_bev(bev), m_uid(uid), m_pid(pid),
      m_output_limit(server.m_options.control_output_limit), m_deadline(server.m_loop, [this] {
          fail(m_hello_done ? "timed out waiting for the rest of a frame"
                            : "timed out waiting for the hello");
      }) {}

Connection::~Connection() {
    if (m_bev) bufferevent_free(m_bev);
}

size_t Connection::output_pending() const {
    return m_bev ? evbuffer_get_length(bufferevent_get_output(m_bev)) : 0;
}

void Connection::send_json(const nlohmann::json& j) {
    if (!m_bev || m_closing) return;
    std::string frame = encode_json_frame(j);
    bufferevent_write(m_bev, frame.data(), frame.size());
    if (output_pending() > m_output_limit) {
        log_warn("client " + std::to_string(m_id) + " reads too slowly; closing it");
        close();
    }
}

void Connection::send_bytes(std::string_view bytes) {
    if (!m_bev || m_closing) return;
    // At least one frame: an empty answer (a hook's "nothing to say") is an answer.
    do {
        size_t n = std::min(bytes.size(), k_max_frame_body);
        std::string frame = encode_frame(FrameType::Bytes, bytes.substr(0, n));
        bufferevent_write(m_bev, frame.data(), frame.size());
        bytes.remove_prefix(n);
    } while (!bytes.empty());
    if (output_pending() > m_output_limit) {
        log_warn("client " + std::to_string(m_id) + " reads too slowly; closing it");
        close();
    }
}

void Connection::reply_ok(const nlohmann::json& request, nlohmann::json body) {
    body["ok"] = true;
    if (request.contains("id")) body["id"] = request["id"];
    send_json(body);
}

void Connection::reply_error(const nlohmann::json& request, const std::string& message) {
    nlohmann::json body{{"ok", false}, {"error", message}};
    if (request.contains("id")) body["id"] = request["id"];
    send_json(body);
}

void Connection::fail(const std::string& message) {
    if (!m_bev || m_closing) return;
    send_json({{"ok", false}, {"error", message}, {"fatal", true}});
    finish();
}

void Connection::finish() {
    if (!m_bev || m_closing) return;
    m_closing = true;
    m_deadline.cancel();
    bufferevent_disable(m_bev, EV_READ);
    if (output_pending() == 0) close();
}

void Connection::pause_reading() {
    if (m_bev && !m_closing) bufferevent_disable(m_bev, EV_READ);
}

void Connection::resume_reading() {
    if (m_bev && !m_closing) bufferevent_enable(m_bev, EV_READ);
}

void Connection::close() {
    if (!m_bev) return;
    auto self = shared_from_this();  // forget() drops the server's reference
    m_deadline.cancel();
    bufferevent_free(m_bev);
    m_bev = nullptr;
    if (on_close) {
        auto fn = std::move(on_close);
        on_close = nullptr;
        run_guarded("connection close", fn);
    }
    m_server.forget(m_id);
}

void Connection::read_cb(bufferevent*, void* self) {
    auto conn = static_cast<Connection*>(self)->shared_from_this();
    run_guarded("connection read", [&] { conn->process_input(); });
}

void Connection::write_cb(bufferevent*, void* self) {
    auto conn = static_cast<Connection*>(self)->shared_from_this();
    run_guarded("connection write", [&] {
        if (conn->m_closing && conn->output_pending() == 0) {
            conn->close();
            return;
        }
        if (conn->on_drained) conn->on_drained();
    });
}

void Connection::event_cb(bufferevent*, short, void* self) {
    // EOF or an error: the client is gone. Nothing it sent half-way is acted on.
    auto conn = static_cast<Connection*>(self)->shared_from_this();
    run_guarded("connection event", [&] { conn->close(); });
}

void Connection::process_input() {
    while (m_bev && !m_closing) {
        evbuffer* in = bufferevent_get_input(m_bev);
        size_t have = evbuffer_get_length(in);
        if (have < k_frame_header) break;
        auto* head = evbuffer_pullup(in, static_cast<ssize_t>(k_frame_header));
        FrameScan scan = scan_frame(head, k_frame_header);
        if (scan.kind == FrameScan::Invalid) return fail(scan.error);
        // Header looks fine; the body may still be arriving.
        size_t body = (size_t(head[0]) << 24) | (size_t(head[1]) << 16) | (size_t(head[2]) << 8) | head[3];
        if (have < k_frame_header + body) break;
        auto* data = evbuffer_pullup(in, static_cast<ssize_t>(k_frame_header + body));
        Frame frame = decode_frame(data, k_frame_header + body);
        evbuffer_drain(in, k_frame_header + body);
        handle_frame(std::move(frame));
    }
    arm_deadline_if_partial();
}

void Connection::arm_deadline_if_partial() {
    if (!m_bev || m_closing) return;
    bool partial = evbuffer_get_length(bufferevent_get_input(m_bev)) > 0;
    if (!m_hello_done || partial) {
        if (!m_deadline.armed()) m_deadline.arm_ms(m_server.m_options.frame_timeout_ms);
    } else {
        m_deadline.cancel();
    }
}

void Connection::handle_frame(Frame frame) {
    if (frame.type == FrameType::Bytes) {
        if (!m_hello_done || !on_bytes) return fail("protocol error: terminal bytes outside an attached stream");
        on_bytes(frame.body);
        return;
    }
    auto j = parse_json_object(frame.body);
    if (!j) return fail(j.error().message);
    if (!m_hello_done) {
        if (auto s = check_hello(*j, "client"); !s) return fail(s.error().message);
        m_hello_done = true;
        m_deadline.cancel();
        nlohmann::json hello = make_hello("tetherd");
        hello["ok"] = true;
        hello["pid"] = getpid();
        send_json(hello);
        return;
    }
    if (!j->contains("cmd") || !(*j)["cmd"].is_string()) return fail("protocol error: request has no \"cmd\"");
    m_server.m_handler(shared_from_this(), *j);
}

ControlServer::ControlServer(EventLoop& loop, Handler handler, ControlServerOptions options)
    : m_loop(loop), m_handler(std::move(handler)), m_options(options) {}

ControlServer::~ControlServer() {
    close_all();
    if (m_listener) evconnlistener_free(m_listener);
    if (!m_path.empty()) unlink(m_path.c_str());
}

Status ControlServer::listen(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        return Error{"control socket: path too long (" + std::to_string(path.size()) + " bytes): " + path};
    std::copy(path.begin(), path.end(), addr.sun_path);

    // A socket file that accepts connections belongs to a live daemon; one that refuses
    // is left over from a crash and may be replaced.
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
        bool live = connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(probe);
        if (live) return Error{"control socket: another daemon is already listening on " + path};
    }
    unlink(path.c_str());

    mode_t old = umask(0177);
    m_listener = evconnlistener_new_bind(m_loop.base(), &ControlServer::accept_cb, this,
                                         LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 64,
                                         reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    int err = errno;
    umask(old);
    if (!m_listener) return errno_error("control socket: bind " + path, err);
    chmod(path.c_str(), 0600);
    m_path = path;
    return {};
}

void ControlServer::accept_cb(evconnlistener*, int fd, ::sockaddr*, int, void* self) {
    run_guarded("accept", [&] { static_cast<ControlServer*>(self)->accept(fd); });
}

void ControlServer::accept(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        ::close(fd);
        return;
    }
    bufferevent* bev = bufferevent_socket_new(m_loop.base(), fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        ::close(fd);
        return;
    }
    uint64_t id = m_next_id++;
    auto conn = std::make_shared<Connection>(*this, id, bev, cred.uid, cred.pid);
    m_connections[id] = conn;
    bufferevent_setcb(bev, &Connection::read_cb, &Connection::write_cb, &Connection::event_cb, conn.get());
    bufferevent_setwatermark(bev, EV_WRITE, k_low_watermark, 0);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    if (cred.uid != getuid()) {
        log_warn("refused a connection from uid " + std::to_string(cred.uid) + " (pid " +
                 std::to_string(cred.pid) + ")");
        conn->fail("permission denied: this daemon belongs to uid " + std::to_string(getuid()) +
                   ", you are uid " + std::to_string(cred.uid));
        return;
    }
    conn->arm_deadline_if_partial();
}

void ControlServer::forget(uint64_t id) { m_connections.erase(id); }

void ControlServer::close_all() {
    auto conns = m_connections;
    for (auto& [id, c] : conns) c->close();
    m_connections.clear();
}

}  // namespace tether
