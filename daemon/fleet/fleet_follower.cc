// Reading the fleet stream from a thread of its own.
#include "fleet/fleet_follower.h"

#include <chrono>

#include "base/log.h"

namespace tether {

FleetFollower::FleetFollower(NatsLink& link, Deliver deliver) : m_link(link), m_deliver(std::move(deliver)) {
    m_thread = std::thread([this] { run(); });
}

FleetFollower::~FleetFollower() {
    m_stop = true;
    m_thread.join();
}

void FleetFollower::run() {
    uint64_t next = 1;
    std::unique_ptr<NatsLink::Reader> reader;
    std::string last_error;
    auto pause = [this] {
        for (int i = 0; i < 5 && !m_stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    };
    while (!m_stop) {
        if (!reader) {
            if (!m_link.connected()) {
                pause();
                continue;
            }
            // The first daemon of a fleet may not have created the stream yet.
            Status stream = m_link.ensure_stream();
            auto r = stream ? m_link.read_stream(next) : Result<std::unique_ptr<NatsLink::Reader>>(stream.error());
            if (!r) {
                if (r.error().message != last_error) log_warn("fleet: " + r.error().message);
                last_error = r.error().message;
                pause();
                continue;
            }
            reader = std::move(*r);
            last_error.clear();
        }
        auto m = reader->next(200);
        if (!m) {
            // Typically the server went away: read again from the next message once it is back.
            if (m.error().message != last_error) log_info("fleet: stream reader: " + m.error().message);
            last_error = m.error().message;
            reader.reset();
            pause();
            continue;
        }
        if (!*m) continue;
        uint64_t seq = (*m)->stream_seq();
        if (seq != 0 && seq < next) continue;  // already delivered before a resubscription
        if (seq != 0) next = seq + 1;
        m_deliver(seq, (*m)->fact());
    }
}

}  // namespace tether
