#include "fleet/fleet_fact.h"

#include <map>

#include <doctest/doctest.h>

using namespace tether;

namespace {
struct Wire {
    std::string subject = "tether.devbox.StateChanged";
    std::map<std::string, std::string> headers{{"Nats-Msg-Id", "devbox:42"}, {"Tether-Host", "devbox"}, {"Tether-Seq", "42"},
                                               {"Tether-Epoch", "1700000000000000"}, {"Tether-Time", "1700000000500000"},
                                               {"Tether-Session", "3"}};
    std::string body = R"({"from":"running","to":"needs_permission","tool":"Bash"})";
    Result<FleetFact> decode() const {
        return decode_fleet_fact(subject, [this](const char* n) {
            auto it = headers.find(n);
            return it == headers.end() ? nullptr : it->second.c_str();
        }, body);
    }
};
}  // namespace

TEST_CASE("which facts travel to the fleet") {
    CHECK(fleet_publishes(EventKind::StateChanged, false));
    CHECK(fleet_publishes(EventKind::PermissionRequested, false));
    CHECK(fleet_publishes(EventKind::PermissionDecided, false));
    CHECK(fleet_publishes(EventKind::SessionStarted, false));
    CHECK(fleet_publishes(EventKind::MarkerAdded, false));
    CHECK(!fleet_publishes(EventKind::OutputChunk, false));
    CHECK(fleet_publishes(EventKind::OutputChunk, true));
    CHECK(!fleet_publishes(EventKind::HookReceived, true));        // agents' payloads stay home
    CHECK(!fleet_publishes(EventKind::ConfigLoaded, true));        // so does the configuration
    CHECK(!fleet_publishes(EventKind::NotificationQueued, true));  // and what the rules sent
    CHECK(!fleet_publishes(EventKind::FleetStateChanged, true));   // never back into the stream
}

TEST_CASE("a fleet message decodes into the fact it carries") {
    Wire w;
    auto f = w.decode();
    REQUIRE(f);
    CHECK(f->host == "devbox");
    CHECK(f->seq == 42);
    CHECK(f->epoch == 1700000000000000);
    CHECK(f->time_us == 1700000000500000);
    CHECK(f->session == 3);
    CHECK(f->kind == EventKind::StateChanged);
    CHECK(f->event().json()["to"] == "needs_permission");
    CHECK(fleet_subject("devbox", EventKind::StateChanged) == w.subject);
    CHECK(fleet_msg_id("devbox", 42) == "devbox:42");
}

TEST_CASE("a fleet message that does not read says why") {
    auto error_of = [](Wire w) {
        auto f = w.decode();
        REQUIRE(!f);
        return f.error().message;
    };
    Wire w;
    w.body = "{not json";
    CHECK(error_of(w) == "the body of StateChanged is not a JSON object");
    w = Wire{};
    w.subject = "tether.devbox.Nonsense";
    CHECK(error_of(w) == "unknown kind Nonsense");
    w = Wire{};
    w.subject = "elsewhere.devbox.StateChanged";
    CHECK(error_of(w).find("is not tether.<host>.<kind>") != std::string::npos);
    w = Wire{};
    w.headers["Tether-Host"] = "laptop";  // the subject is what the server's permissions vouch for
    CHECK(error_of(w) == "Tether-Host laptop differs from the subject's host devbox");
    w = Wire{};
    w.headers["Tether-Seq"] = "4x";
    CHECK(error_of(w) == "no valid Tether-Seq");
    w = Wire{};
    w.headers["Nats-Msg-Id"] = "devbox:41";
    CHECK(error_of(w) == "Nats-Msg-Id devbox:41 is not devbox:42");
    w = Wire{};
    w.headers.erase("Tether-Epoch");
    CHECK(error_of(w).find("missing or malformed") != std::string::npos);
}

TEST_CASE("output travels as raw bytes") {
    Wire w;
    w.subject = "tether.devbox.OutputChunk";
    w.body = std::string("\x1b[31mred\xff", 9);
    auto f = w.decode();
    REQUIRE(f);
    CHECK(f->payload == w.body);
}
