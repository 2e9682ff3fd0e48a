// FleetFollower: the thread that reads the whole fleet stream (an ordered consumer, from
// the first message at start, then from where it left off after each reconnect) and
// hands each message, read or not, to the loop through deliver(). The fold itself (and
// every skip of a bad, repeated or foreign fact) happens on the loop, in FleetView.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>

#include "fleet/nats_link.h"

namespace tether {

class FleetFollower {
public:
    // deliver(stream_seq, fact or why it does not read): called on the follower thread.
    using Deliver = std::function<void(uint64_t stream_seq, Result<FleetFact> fact)>;
    FleetFollower(NatsLink& link, Deliver deliver);
    ~FleetFollower();  // stops and joins

private:
    void run();

    NatsLink& m_link;
    Deliver m_deliver;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

}  // namespace tether
