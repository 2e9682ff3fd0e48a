// Event kind names and payload helpers.
#include "log/events.h"

#include "base/json_text.h"

#include <array>
#include <chrono>

namespace tether {

namespace {

struct KindName {
    EventKind kind;
    std::string_view name;
};

constexpr std::array k_kind_names{
    KindName{EventKind::DaemonStarted, "DaemonStarted"},
    KindName{EventKind::DaemonStopped, "DaemonStopped"},
    KindName{EventKind::SessionStarted, "SessionStarted"},
    KindName{EventKind::SessionSpawnFailed, "SessionSpawnFailed"},
    KindName{EventKind::OutputChunk, "OutputChunk"},
    KindName{EventKind::InputSent, "InputSent"},
    KindName{EventKind::Resized, "Resized"},
    KindName{EventKind::SessionExited, "SessionExited"},
    KindName{EventKind::TitleChanged, "TitleChanged"},
    KindName{EventKind::BellRang, "BellRang"},
    KindName{EventKind::TerminalNotified, "TerminalNotified"},
    KindName{EventKind::MarkerAdded, "MarkerAdded"},
    KindName{EventKind::ClientAttached, "ClientAttached"},
    KindName{EventKind::ClientDetached, "ClientDetached"},
    KindName{EventKind::HookReceived, "HookReceived"},
    KindName{EventKind::StateChanged, "StateChanged"},
    KindName{EventKind::PermissionRequested, "PermissionRequested"},
    KindName{EventKind::PermissionDecided, "PermissionDecided"},
    KindName{EventKind::AgentNotified, "AgentNotified"},
    KindName{EventKind::ScreenPromptSeen, "ScreenPromptSeen"},
    KindName{EventKind::NotificationQueued, "NotificationQueued"},
    KindName{EventKind::NotificationSent, "NotificationSent"},
    KindName{EventKind::NotificationFailed, "NotificationFailed"},
    KindName{EventKind::EscalationScheduled, "EscalationScheduled"},
    KindName{EventKind::EscalationCancelled, "EscalationCancelled"},
    KindName{EventKind::Acknowledged, "Acknowledged"},
    KindName{EventKind::ConfigLoaded, "ConfigLoaded"},
    KindName{EventKind::SessionAdopted, "SessionAdopted"},
    KindName{EventKind::HolderOrphaned, "HolderOrphaned"},
    KindName{EventKind::NotifierReported, "NotifierReported"},
    KindName{EventKind::SessionPruned, "SessionPruned"},
    KindName{EventKind::FleetStateChanged, "FleetStateChanged"},
    KindName{EventKind::LogStalled, "LogStalled"},
};

}  // namespace

std::optional<std::string_view> event_kind_name(uint16_t kind) {
    for (const auto& k : k_kind_names)
        if (static_cast<uint16_t>(k.kind) == kind) return k.name;
    return std::nullopt;
}

std::optional<EventKind> event_kind_from_name(std::string_view name) {
    for (const auto& k : k_kind_names)
        if (k.name == name) return k.kind;
    return std::nullopt;
}

bool event_kind_is_binary(EventKind kind) {
    return kind == EventKind::OutputChunk || kind == EventKind::InputSent;
}

nlohmann::json Event::json() const {
    auto j = parse_json_bounded(payload);
    if (j.is_discarded() || !j.is_object()) return nlohmann::json::object();
    return j;
}

Event make_json_event(int64_t session, EventKind kind, const nlohmann::json& payload) {
    Event ev;
    ev.session = session;
    ev.kind = kind;
    // Replace, never throw, on invalid UTF-8: titles and messages come from programs.
    ev.payload = payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return ev;
}

Event make_bytes_event(int64_t session, EventKind kind, std::string bytes) {
    Event ev;
    ev.session = session;
    ev.kind = kind;
    ev.payload = std::move(bytes);
    return ev;
}

}  // namespace tether
