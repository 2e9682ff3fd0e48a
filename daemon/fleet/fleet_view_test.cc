#include "fleet/fleet_view.h"

#include <doctest/doctest.h>

#include "fleet/fleet.h"

using namespace tether;

namespace {
FleetFact fact(const std::string& host, int64_t seq, int64_t session, EventKind kind, const nlohmann::json& payload,
               int64_t epoch = 1000) {
    return FleetFact{host, epoch, seq, 1000 + seq, session, kind, payload.dump()};
}

// A little life of one session on host b: started, asks, answered, idle.
std::vector<FleetFact> life(const std::string& host = "b", int64_t epoch = 1000) {
    return {fact(host, 1, 0, EventKind::DaemonStarted, {{"pid", 1}}, epoch),
            fact(host, 3, 1, EventKind::SessionStarted, {{"name", "api"}, {"command", {"claude"}}, {"cwd", "/w"}, {"agent", "claude"}}, epoch),
            fact(host, 7, 1, EventKind::StateChanged, {{"from", "starting"}, {"to", "running"}}, epoch),
            fact(host, 9, 1, EventKind::PermissionRequested, {{"hook", 8}, {"tool", "Bash"}, {"tool_input", {{"command", "ls"}}}}, epoch),
            fact(host, 10, 1, EventKind::StateChanged,
                 {{"from", "running"}, {"to", "needs_permission"}, {"tool", "Bash"}, {"tool_input", {{"command", "ls"}}}}, epoch)};
}
}  // namespace

TEST_CASE("the fleet view folds a host's facts with the sessions projection's own fold") {
    FleetView v;
    for (const auto& f : life()) CHECK(v.apply(f).outcome == FleetView::Outcome::applied);
    const HostView* h = v.host("b");
    REQUIRE(h);
    CHECK(h->daemon_up);
    CHECK(h->last_seq == 10);
    const SessionRow* row = h->sessions.find(1);
    REQUIRE(row);
    CHECK(row->name == "api");
    CHECK(row->state == "needs_permission");
    CHECK(row->waiting_tool == "Bash");
    REQUIRE(h->pending.size() == 1);
    CHECK(h->pending.at(9).tool == "Bash");
    auto j = remote_pending_json(*h, h->pending.at(9), 2000);
    CHECK(j["request"] == "b:9");
    CHECK(j["name"] == "api");

    auto decided = v.apply(fact("b", 11, 1, EventKind::PermissionDecided, {{"request", 9}, {"decision", "allow"}, {"by", "fleet:a"}}));
    CHECK(decided.pending_changed);
    CHECK(v.host("b")->pending.empty());
}

TEST_CASE("a repeated or older fact is skipped, never applied twice") {
    FleetView v;
    for (const auto& f : life()) v.apply(f);
    FleetView once = v;
    auto again = v.apply(life()[2]);
    CHECK(again.outcome == FleetView::Outcome::repeated);
    CHECK(again.why.find("b:7 repeated or out of order (had 10)") != std::string::npos);
    CHECK(v.apply(fact("b", 10, 1, EventKind::StateChanged, {{"to", "idle"}})).outcome == FleetView::Outcome::repeated);
    CHECK(v.skipped().repeated == 2);
    CHECK(v == once);
    // A fact from before the host's log was recreated.
    CHECK(v.apply(fact("b", 50, 1, EventKind::StateChanged, {{"to", "idle"}}, 999)).outcome == FleetView::Outcome::older_epoch);
    CHECK(v == once);
}

TEST_CASE("a host whose log was recreated starts afresh") {
    FleetView v;
    for (const auto& f : life()) v.apply(f);
    auto a = v.apply(fact("b", 1, 0, EventKind::DaemonStarted, {{"pid", 2}}, 2000));
    CHECK(a.outcome == FleetView::Outcome::applied);
    CHECK(a.host_reset);
    CHECK(v.host("b")->sessions.sessions.empty());
    CHECK(v.host("b")->pending.empty());
    CHECK(v.host("b")->last_seq == 1);
}

TEST_CASE("hosts outside fleet.hosts are skipped; hosts do not mix") {
    FleetView v([](const std::string& h) { return h != "mallory"; });
    CHECK(v.apply(fact("mallory", 1, 0, EventKind::DaemonStarted, {})).outcome == FleetView::Outcome::unknown_host);
    CHECK(v.hosts().empty());
    for (const auto& f : life("b")) v.apply(f);
    for (const auto& f : life("c")) v.apply(f);
    CHECK(v.hosts().size() == 2);
    v.apply(fact("c", 11, 1, EventKind::SessionExited, {{"code", 0}}));
    CHECK(v.host("c")->sessions.find(1)->state == "exited");
    CHECK(v.host("c")->pending.empty());
    CHECK(v.host("b")->sessions.find(1)->state == "needs_permission");
    CHECK(v.host("b")->pending.size() == 1);
}

TEST_CASE("a daemon's restart drops its waiting requests; attaches are counted") {
    FleetView v;
    for (const auto& f : life()) v.apply(f);
    v.apply(fact("b", 12, 1, EventKind::ClientAttached, {{"client", 4}}));
    CHECK(v.host("b")->attached.at(1) == 1);
    v.apply(fact("b", 13, 1, EventKind::ClientDetached, {{"client", 4}}));
    CHECK(v.host("b")->attached.empty());
    v.apply(fact("b", 14, 0, EventKind::DaemonStopped, {{"reason", "SIGTERM"}}));
    CHECK(!v.host("b")->daemon_up);
    CHECK(v.host("b")->pending.empty());
}

TEST_CASE("a rebuild from the same facts gives the same view") {
    FleetView live, rebuilt;
    auto facts = life();
    facts.push_back(fact("b", 11, 1, EventKind::PermissionDecided, {{"request", 9}, {"decision", "deny"}}));
    for (const auto& f : facts) {
        live.apply(f);
        live.apply(f);  // a republished copy on the way
    }
    for (const auto& f : facts) rebuilt.apply(f);
    CHECK(live == rebuilt);
}

TEST_CASE("a remote request is named host:number") {
    CHECK(parse_remote_request("devbox:17") == std::make_pair(std::string("devbox"), int64_t{17}));
    CHECK(!parse_remote_request("devbox:"));
    CHECK(!parse_remote_request(":17"));
    CHECK(!parse_remote_request("devbox:1x"));
    CHECK(!parse_remote_request("dev box:17"));
    CHECK(!parse_remote_request("17"));
}
