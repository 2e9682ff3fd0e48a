// ReplyStream: a long answer (a timeline, an asciicast export) sent to one client as
// Bytes frames, produced piece by piece on the loop thread only while the client keeps
// up: at most about 1 MiB is queued for it at any time, so a 100 MB export never sits in
// memory, and a client that stops reading only stops the production. The stream ends
// with the request's reply: ok (with the source's summary) or the error that stopped it.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "wire/control_socket.h"
#include "base/result.h"

namespace tether {

class StreamSource {
public:
    virtual ~StreamSource() = default;
    // Appends roughly up to `budget` bytes to out (one event may overshoot it); true
    // once everything has been produced.
    virtual Result<bool> produce(std::string& out, size_t budget) = 0;
    // Fields for the final reply.
    virtual nlohmann::json summary() const { return nlohmann::json::object(); }
};

// Takes the connection's on_drained for the length of the stream.
void start_reply_stream(const std::shared_ptr<Connection>& conn, const nlohmann::json& req,
                        std::shared_ptr<StreamSource> source);

}  // namespace tether
