// The daemon's Unix control socket: listening (0600, in a 0700 directory), peer uid
// checks (SO_PEERCRED), framing (protocol.h), the hello, and per-connection limits
// (frame deadline, bounded output). What a request means is the handler's business.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/event_loop.h"
#include "wire/protocol.h"
#include "base/result.h"

struct bufferevent;
struct evconnlistener;

namespace tether {

class ControlServer;

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(ControlServer& server, uint64_t id, bufferevent* bev, uid_t uid, pid_t pid);
    ~Connection();

    uint64_t id() const { return m_id; }
    pid_t peer_pid() const { return m_pid; }
    bool open() const { return m_bev != nullptr; }

    void send_json(const nlohmann::json& j);
    void send_bytes(std::string_view bytes);
    void reply_ok(const nlohmann::json& request, nlohmann::json body = nlohmann::json::object());
    void reply_error(const nlohmann::json& request, const std::string& message);
    // Sends an error notice and closes once it is written: the end of a bad connection.
    void fail(const std::string& message);
    // Stops reading and closes once everything queued has been written.
    void finish();
    void close();
    void pause_reading();
    void resume_reading();
    // Streaming connections (attach) may buffer up to their own, larger bound.
    void set_output_limit(size_t bytes) { m_output_limit = bytes; }
    size_t output_pending() const;

    // The session this connection is attached to, 0 when it is not a stream.
    int64_t attached_session = 0;
    // Set by whoever takes the connection over for streaming (attach).
    std::function<void(std::string_view)> on_bytes;
    std::function<void()> on_drained;  // output fell below the low watermark
    std::function<void()> on_close;

private:
    friend class ControlServer;
    static void read_cb(bufferevent*, void* self);
    static void write_cb(bufferevent*, void* self);
    static void event_cb(bufferevent*, short what, void* self);
    void process_input();
    void handle_frame(Frame frame);
    void arm_deadline_if_partial();

    ControlServer& m_server;
    uint64_t m_id;
    bufferevent* m_bev;
    uid_t m_uid;
    pid_t m_pid;
    bool m_hello_done = false;
    bool m_closing = false;
    size_t m_output_limit;
    Timer m_deadline;
};

struct ControlServerOptions {
    long frame_timeout_ms = 10000;         // hello, and the rest of any started frame
    size_t control_output_limit = 8u << 20;  // a client that reads nothing is cut off
};

class ControlServer {
public:
    using Handler = std::function<void(const std::shared_ptr<Connection>&, const nlohmann::json& request)>;

    ControlServer(EventLoop& loop, Handler handler, ControlServerOptions options = {});
    ~ControlServer();

    // Binds path; a stale socket file is replaced, a live daemon on it is an error.
    Status listen(const std::string& path);
    void close_all();
    size_t connection_count() const { return m_connections.size(); }

private:
    friend class Connection;
    static void accept_cb(evconnlistener*, int fd, ::sockaddr*, int, void* self);
    void accept(int fd);
    void forget(uint64_t id);

    EventLoop& m_loop;
    Handler m_handler;
    ControlServerOptions m_options;
    evconnlistener* m_listener = nullptr;
    std::string m_path;
    uint64_t m_next_id = 1;
    std::map<uint64_t, std::shared_ptr<Connection>> m_connections;
};

}  // namespace tether
