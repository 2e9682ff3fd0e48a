// Event kinds and the Event value: the vocabulary of the append-only log.
// This comment is THE reference for kinds; docs/EVENTS.md points here.
//
// An event is (seq, time, session, kind, payload):
//   seq      strictly increasing from 1, assigned by EventLog at append; never reused.
//   time     microseconds since the Unix epoch (wall clock at append).
//   session  the session id the fact belongs to, 0 for daemon-wide facts.
//   kind     one of EventKind below. Numbers are frozen: never renumbered, never reused;
//            a retired kind stays here as a tombstone comment.
//   payload  raw bytes for terminal data (OutputChunk, InputSent), otherwise a JSON object
//            (fields listed per kind; readers ignore fields they do not know).
//
//  1 DaemonStarted      {"pid", "version", "schema"}
//  2 DaemonStopped      {"reason"}                      clean shutdown only
//  3 SessionStarted     {"name", "command":[..], "cwd", "agent", "cols", "rows", "pid", "holder_pid",
//                        "adopted_from": {"session", "state_dir"} for an orphan adopted by doctor}
//  4 SessionSpawnFailed {"name", "command":[..], "cwd", "error"}
//  5 OutputChunk        raw bytes the program wrote to its terminal (coalesced)
//  6 InputSent          raw bytes written to the program's terminal, {"from"} not kept
//  7 Resized            {"cols", "rows"}
//  8 SessionExited      {"code"} or {"signal", "core_dumped"}, or {"lost": true, "reason"}
//  9 TitleChanged       {"title"}                        OSC 0 / OSC 2
// 10 BellRang           {}
// 11 TerminalNotified   {"message"}                      OSC 9 / OSC 777
// 12 MarkerAdded        {"text"}                         `tether mark`, a note on the timeline
// 13 ClientAttached     {"client", "read_only", "cols", "rows"}
// 14 ClientDetached     {"client"}
// 15 HookReceived       {"agent", "payload": <the hook's JSON as the agent sent it>}
// 16 StateChanged       {"from", "to", "reason", "tool", "tool_input", "message", "question",
//                        "cause": <seq of the event that caused it>}
// 17 PermissionRequested {"hook": <seq of its HookReceived>, "tool", "tool_input"}
// 18 PermissionDecided  {"request": <seq of PermissionRequested>, "decision": "allow"|"deny"|"ask",
//                        "by": "cli"|"ui"|"rule:<name>"|"notifier:<name>"|"<plugin>:<person>" (an
//                        answer from a chat: "slack:U0123ABC", "telegram:456")|"timeout"|"agent",
//                        "notifier": <its name, when a plugin answered>, "message", "always", "latency_ms"}
// 19 AgentNotified      {"state": "needs_answer"|"idle"|"running", "message"}  `tether notify`
// 20 ScreenPromptSeen   {"prompt": "trust"|"permission", "text"}
// 21 NotificationQueued {"rule", "notifier", "cause": <seq>, "escalation_of": <seq of its
//                        EscalationScheduled, when it is one>, "update_of": <seq of the
//                        NotificationQueued it revises: its request was decided, "cause" is the
//                        PermissionDecided>, "message": {...}}
//                        its seq is the delivery's idempotency key
// 22 NotificationSent   {"queued": <seq>, "attempt", "latency_ms", "notifier", "receipt": <what the
//                        plugin says identifies its delivery, e.g. Slack's channel and ts>, "update_of"}
// 23 NotificationFailed {"queued": <seq>, "attempt", "error", "final", "retry_in_ms"}
// 24 EscalationScheduled {"rule", "cause": <seq>, "due_us", "notifiers": [..], "state"}
// 25 EscalationCancelled {"escalation": <seq>, "reason"}
// 26 Acknowledged       {"by": "attach"|"answer"|"cli"|"ui"}
// 27 ConfigLoaded       {"path", "ok", "errors": [..], "notifiers", "rules"}   start and reload
// 28 SessionAdopted     {"holder_pid", "pid", "down_from_us", "down_to_us", "buffered",
//                        "exited", "holder_version"}: a starting daemon took over a live
//                        session from its holder; the daemon was away from down_from_us
//                        (0: unknown) to down_to_us, and `buffered` output bytes waited
// 29 HolderOrphaned     {"socket", "session", "holder_pid", "pid", "state_dir", "exited",
//                        "reason"} (session 0): a holder this daemon will not adopt
// 30 SessionPruned      {"name", "reason", "events", "bytes"}   retention (`tether gc`): every
//                        earlier event of the session was deleted in the same transaction;
//                        this one stays as its tombstone
// 40 NotifierReported   {"notifier", "plugin", "code", "text"}  a plugin's notifier_host.event,
//                       e.g. code "no_audio_device"
// 50 FleetStateChanged  {"host", "epoch", "seq", "session", "name", "cwd", "agent", "from", "to",
//                        "tool", "tool_input", "message", "question", "previous_us", "attached",
//                        "time_us"} (session 0): the fleet notifier (fleet.notify) took another
//                        host's StateChanged (that host's seq) for its rules; kept so that a
//                        restart neither loses nor repeats one
// 60 LogStalled         {"error", "from_us", "to_us", "attempts"} (session 0): the log could not
//                       be written from from_us to to_us (disk full, read-only state
//                       directory); appended by the first commit that worked again. What
//                       happened meanwhile waited in memory and in the holders: nothing lost
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/clock.h"

namespace tether {

enum class EventKind : uint16_t {
    DaemonStarted = 1,
    DaemonStopped = 2,
    SessionStarted = 3,
    SessionSpawnFailed = 4,
    OutputChunk = 5,
    InputSent = 6,
    Resized = 7,
    SessionExited = 8,
    TitleChanged = 9,
    BellRang = 10,
    TerminalNotified = 11,
    MarkerAdded = 12,
    ClientAttached = 13,
    ClientDetached = 14,
    HookReceived = 15,
    StateChanged = 16,
    PermissionRequested = 17,
    PermissionDecided = 18,
    AgentNotified = 19,
    ScreenPromptSeen = 20,
    NotificationQueued = 21,
    NotificationSent = 22,
    NotificationFailed = 23,
    EscalationScheduled = 24,
    EscalationCancelled = 25,
    Acknowledged = 26,
    ConfigLoaded = 27,
    SessionAdopted = 28,
    HolderOrphaned = 29,
    SessionPruned = 30,
    NotifierReported = 40,
    FleetStateChanged = 50,
    LogStalled = 60,
};

// The one name table. Returns nullopt for a number this build does not know.
std::optional<std::string_view> event_kind_name(uint16_t kind);
std::optional<EventKind> event_kind_from_name(std::string_view name);
// True for kinds whose payload is raw terminal bytes rather than JSON.
bool event_kind_is_binary(EventKind kind);

struct Event {
    int64_t seq = 0;
    int64_t time_us = 0;
    int64_t session = 0;
    EventKind kind = EventKind::MarkerAdded;
    std::string payload;

    bool operator==(const Event&) const = default;

    // Parses the payload of a JSON kind; a malformed payload yields an empty object so
    // that one bad record never stops a fold or a replay.
    nlohmann::json json() const;
};

Event make_json_event(int64_t session, EventKind kind, const nlohmann::json& payload);
Event make_bytes_event(int64_t session, EventKind kind, std::string bytes);


}  // namespace tether
