// The wire form of fleet facts.
#include "fleet/fleet_fact.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "config/fleet_config.h"

namespace tether {

namespace {

std::optional<int64_t> number(const char* text) {
    if (!text) return std::nullopt;
    std::string_view s(text);
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

}  // namespace

bool fleet_publishes(EventKind kind, bool output) {
    switch (kind) {
    case EventKind::DaemonStarted:
    case EventKind::DaemonStopped:
    case EventKind::SessionStarted:
    case EventKind::SessionSpawnFailed:
    case EventKind::Resized:
    case EventKind::SessionExited:
    case EventKind::MarkerAdded:
    case EventKind::ClientAttached:
    case EventKind::ClientDetached:
    case EventKind::StateChanged:
    case EventKind::PermissionRequested:
    case EventKind::PermissionDecided:
    case EventKind::SessionPruned:
        return true;
    // Titles change with every spinner frame of some agents: they travel with the output.
    case EventKind::OutputChunk:
    case EventKind::TitleChanged:
        return output;
    default:
        return false;
    }
}

std::string fleet_subject(const std::string& host, EventKind kind) {
    auto name = event_kind_name(static_cast<uint16_t>(kind));
    return "tether." + host + "." + std::string(name ? *name : "Unknown");
}

std::string fleet_msg_id(const std::string& host, int64_t seq) { return host + ":" + std::to_string(seq); }

std::string fleet_request_subject(const std::string& to, const std::string& from) { return "tether-rpc." + to + ".decide." + from; }

std::string fleet_inbox_prefix(const std::string& host) { return "_INBOX_" + host; }

Result<FleetFact> decode_fleet_fact(std::string_view subject, const std::function<const char*(const char*)>& header,
                                    std::string_view body) {
    // tether.<host>.<Kind>
    if (subject.substr(0, 7) != "tether.") return Error{"subject " + std::string(subject) + " is not tether.<host>.<kind>"};
    std::string_view rest = subject.substr(7);
    size_t dot = rest.find('.');
    if (dot == std::string_view::npos) return Error{"subject " + std::string(subject) + " is not tether.<host>.<kind>"};
    FleetFact f;
    f.host = std::string(rest.substr(0, dot));
    std::string kind_name(rest.substr(dot + 1));
    if (!valid_fleet_host(f.host)) return Error{"subject " + std::string(subject) + " names no valid host"};
    auto kind = event_kind_from_name(kind_name);
    if (!kind) return Error{"unknown kind " + kind_name};
    f.kind = *kind;
    // The subject is what the server's permissions vouch for: the headers must agree.
    const char* host = header("Tether-Host");
    if (!host || f.host != host) return Error{"Tether-Host " + std::string(host ? host : "(none)") + " differs from the subject's host " + f.host};
    auto seq = number(header("Tether-Seq"));
    auto epoch = number(header("Tether-Epoch"));
    auto time = number(header("Tether-Time"));
    auto session = number(header("Tether-Session"));
    if (!seq || *seq <= 0) return Error{"no valid Tether-Seq"};
    if (!epoch || !time || !session) return Error{"missing or malformed Tether-Epoch, Tether-Time or Tether-Session"};
    const char* id = header("Nats-Msg-Id");
    if (!id || fleet_msg_id(f.host, *seq) != id) return Error{"Nats-Msg-Id " + std::string(id ? id : "(none)") + " is not " + fleet_msg_id(f.host, *seq)};
    f.seq = *seq;
    f.epoch = *epoch;
    f.time_us = *time;
    f.session = *session;
    f.payload = std::string(body);
    if (!event_kind_is_binary(f.kind)) {
        auto j = nlohmann::json::parse(f.payload, nullptr, false);
        if (j.is_discarded() || !j.is_object()) return Error{"the body of " + kind_name + " is not a JSON object"};
    }
    return f;
}

}  // namespace tether
