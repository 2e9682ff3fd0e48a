// NatsLink: the one user of libnats (the official C client). One connection to the fleet's
// server with its options (servers, credentials, TLS, reconnecting forever), and the few
// JetStream and request/reply calls the fleet needs, each returning a Result whose error
// reads "nats: <what> failed: <why>". All calls block (bounded by their timeouts) and are
// made from the fleet's own threads, never from the daemon's loop; libnats is
// thread-safe. Secrets reach libnats and never an error text.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/result.h"
#include "config/fleet_config.h"
#include "fleet/fleet_fact.h"

struct __natsConnection;
struct __natsSubscription;
struct __natsMsg;
struct __jsCtx;

namespace tether {

// A received message, owned (destroyed with it).
class NatsMessage {
public:
    explicit NatsMessage(__natsMsg* m) : m_msg(m) {}
    ~NatsMessage();
    NatsMessage(NatsMessage&& o) noexcept : m_msg(o.m_msg) { o.m_msg = nullptr; }
    NatsMessage(const NatsMessage&) = delete;
    std::string_view subject() const;
    std::string_view data() const;
    const char* header(const char* name) const;  // nullptr when absent
    const char* reply() const;
    uint64_t stream_seq() const;                 // JetStream metadata; 0 when none
    Result<FleetFact> fact() const { return decode_fleet_fact(subject(), [this](const char* n) { return header(n); }, data()); }

private:
    __natsMsg* m_msg;
};

class NatsLink {
public:
    // Starts connecting (in the background: a server that is down is retried forever).
    static Result<std::unique_ptr<NatsLink>> open(const FleetConfig& config, std::function<void(bool up, const std::string& why)> on_status);
    ~NatsLink();

    bool connected() const;
    std::string last_error() const;  // the connection's last error, e.g. an authorization violation
    // Creates the stream when missing (subjects tether.*.*, file storage, max age).
    Status ensure_stream();
    // Publishes and waits for the stream's acknowledgement; true when the server already
    // had the message id (a republish, deduplicated).
    Result<bool> publish(const FleetFact& f, long timeout_ms);
    // The last fact the stream holds from host (any kind), or nullopt.
    Result<std::optional<FleetFact>> last_fact_of(const std::string& host);

    // An ordered consumer of the whole stream from stream_seq (1: everything).
    class Reader {
    public:
        ~Reader();
        // The next message within timeout_ms; nullopt on timeout.
        Result<std::optional<NatsMessage>> next(long timeout_ms);

    private:
        friend class NatsLink;
        explicit Reader(const NatsLink& link) : m_link(link) {}
        const NatsLink& m_link;
        __natsSubscription* m_sub = nullptr;
    };
    Result<std::unique_ptr<Reader>> read_stream(uint64_t from_stream_seq);

    // Answers requests on subject (wildcards allowed): handler(subject, data) runs on a
    // libnats thread and returns the reply.
    using Handler = std::function<std::string(std::string_view subject, std::string_view data)>;
    Status serve(const std::string& subject, Handler handler);
    // A request and its reply; errors say whether nobody listens or nobody answered.
    Result<std::string> request(const std::string& subject, const std::string& data, long timeout_ms);

private:
    NatsLink() = default;
    static void on_request(__natsConnection*, __natsSubscription*, __natsMsg*, void* self);
    static void on_disconnected(__natsConnection*, void* self);
    static void on_reconnected(__natsConnection*, void* self);
    static void on_closed(__natsConnection*, void* self);
    static void on_error(__natsConnection*, __natsSubscription*, int status, void* self);

    FleetConfig m_config;
    __natsConnection* m_conn = nullptr;
    __jsCtx* m_js = nullptr;
    __natsSubscription* m_served = nullptr;
    Handler m_handler;
    std::function<void(bool, const std::string&)> m_on_status;
    // libnats runs its connection callbacks on a thread of its own: the destructor waits
    // for the last one (closed) before freeing what they use.
    std::mutex m_closed_mutex;
    std::condition_variable m_closed_cv;
    bool m_closed = false;
    mutable std::mutex m_error_mutex;
    std::string m_async_error;  // the server's last complaint (authorization, permissions)
};

}  // namespace tether
