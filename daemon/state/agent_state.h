// The agent-session state reducer: reduce(AgentStatus&, const Event&) turns hooks, terminal
// signals and PTY activity into at most one state transition per event. Pure: the result
// depends only on the status and the event (its time included), never on a clock. The
// daemon appends a StateChanged for each transition; rules and notifications are not here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "log/events.h"

namespace tether {

// The states, as they appear in StateChanged and the sessions projection. "failed" (spawn
// failure) belongs to the projection and never comes out of reduce().
namespace agent_state {
inline constexpr const char* starting = "starting";
inline constexpr const char* running = "running";
inline constexpr const char* needs_permission = "needs_permission";
inline constexpr const char* needs_answer = "needs_answer";
inline constexpr const char* idle = "idle";
inline constexpr const char* exited = "exited";
}  // namespace agent_state

// One transition; from != to always. tool/tool_input/message/question describe what the
// session now waits for (or why it stopped) and are empty/null when nothing applies.
struct StateChange {
    std::string from;
    std::string to;
    std::string reason;  // the signal: "hook PermissionRequest", "title idle", "exit", ...
    std::string tool;
    nlohmann::json tool_input;
    std::string message;
    std::string question;

    bool operator==(const StateChange&) const = default;
};

// The StateChanged payload for a change: {"from","to","reason","tool","tool_input",
// "message","question"}.
nlohmann::json state_changed_payload(const StateChange& change);

// One per session; the caller routes events by Event::session. The detail fields hold the
// current best knowledge and may be refined without a transition (a late Notification
// fills in the message of a pending permission); a StateChange reports them as of the
// transition. The rest is memory for deduplication, see the table below.
struct AgentStatus {
    std::string state = agent_state::starting;
    int64_t since_us = 0;
    std::string tool;
    nlohmann::json tool_input;
    std::string message;
    std::string question;

    bool turn_hooks_seen = false;  // a hook that announces work (UserPromptSubmit, PreToolUse, ...)
    bool titles_seen = false;      // a title with an idle or busy glyph
    bool title_busy = false;       // a busy title since the last idle
    bool submitted = false;        // Enter typed while idle: the next output means work
    bool interrupted = false;      // a lone Esc or Ctrl-C typed while running
    bool idle_by_stop = false;     // idle came from a turn-end hook
    std::string turn;              // prompt_id / turn_id of the newest hook that had one
    std::string stopped_turn;      // the same, of the last accepted turn end
    std::string pending_tool;      // the last PreToolUse not yet followed by its PostToolUse
    nlohmann::json pending_input;
    std::string screen_text;       // text of the last ScreenPromptSeen that started a wait
    int64_t permission_seq = 0;    // seq of the newest PermissionRequest hook
    int64_t wait_ended_us = 0;     // when needs_permission/needs_answer last became running
    int64_t last_keystroke_us = 0;

    bool operator==(const AgentStatus&) const = default;
};

// Folds ev into status and returns the transition it causes, if any. Never throws; a
// malformed payload is treated as carrying no information.
//
// The mapping (docs/AGENTS.md copies this). W = needs_permission or needs_answer. Sections
// refer to research/agent-hooks.md. A row that would lead to the current state yields
// nothing; only the first matching row applies.
//
//  signal                                      in state            -> to
//  SessionStarted                              any                 -> starting (resets memory)
//  SessionExited                               any but exited      -> exited ("code N"/"signal N")
//  anything else                               exited              -> nothing; exited is final
//  hook SessionEnd                             any                 -> nothing: the child's exit is
//                                                                     the end (§4.2, #70465)
//  hook UserPromptSubmit (Gemini BeforeAgent)  any                 -> running
//  hook PreToolUse / PermissionRequest with    any                 -> needs_answer, tool_input
//    tool_name AskUserQuestion                                        .questions[].question
//  hook PreToolUse (Gemini BeforeTool)         starting, idle, W   -> running; not for the tool+
//                                                                     input already waited for
//  hook PermissionRequest                      any                 -> needs_permission (tool, input)
//  hook Elicitation                            any                 -> needs_answer; question = message
//                                                                     (+ url), message = MCP server
//  hook PostToolUse, PostToolUseFailure,       W                   -> running, if it names the
//    PostToolBatch (Gemini AfterTool)                                 tool waited for (or none was)
//  hook ElicitationResult, Notification        needs_answer        -> running
//    elicitation_complete / _response
//  hook Stop, StopFailure (Gemini AfterAgent), starting, running,W -> idle; message = last
//    Codex notify agent-turn-complete                                 assistant message, or
//                                                                     "error: details"; a late copy
//                                                                     of a turn already ended
//                                                                     (same prompt_id/turn_id, a
//                                                                     newer turn seen) is ignored
//  "wants permission" (*): Notification        starting, running,  -> needs_permission, tool from the
//    permission_prompt, worker_permission_       idle                 pending PreToolUse; needs_answer
//    prompt, agent_needs_input, ToolPermission;                       if that is AskUserQuestion
//    a legacy Notification saying "permission";                       (#74052). In W: nothing (fills
//    OSC 9 "...needs your permission";                                in the message)
//    ScreenPromptSeen permission
//  "wants an answer" (*): Notification         same                -> needs_answer. In W: nothing
//    elicitation_dialog / _url_dialog;
//    ScreenPromptSeen trust (no hook fires
//    before trust, §0.3)
//  Notification idle_prompt; OSC 9 "...waiting running             -> idle (Stop was missed)
//    for your input"
//  hook SessionStart                           starting            -> running
//                                              W, source startup   -> running (trust was accepted)
//  any other hook                              starting            -> running
//  PermissionDecided                           W                   -> running; ignored if "request"
//                                                                     predates the newest
//                                                                     PermissionRequest hook
//  AgentNotified {"state"}                     any                 -> that state (needs_answer,
//                                                                     needs_permission, idle, running)
//  InputSent with a keystroke (not focus       W                   -> running
//    events or answers to terminal queries)    idle                -> nothing; Enter arms the next row
//                                              running             -> nothing; a lone Esc / Ctrl-C
//                                                                     arms "title idle after interrupt"
//  OutputChunk                                 starting            -> running
//                                              idle                -> running, only after Enter was
//                                                                     typed, and only while no turn
//                                                                     hook and no glyph title was seen
//  TitleChanged busy glyph (braille U+28xx,    starting, idle      -> running   only while no turn
//    ◐◓◑◒)                                                                      hook was seen
//  TitleChanged "✳" (Claude idle, §1.8)        starting            -> running   (same)
//                                              running             -> idle, after a busy title
//                                                                     since the last idle; once turn
//                                                                     hooks were seen, only after a
//                                                                     lone Esc/Ctrl-C (an interrupt
//                                                                     fires no Stop)
//  BellRang; OSC 9 with other text             running             -> idle ("wants attention"),
//                                                                     only while no turn hook was
//                                                                     seen; a bell within 1 s of a
//                                                                     keystroke answers the keystroke
//
// (*) Echoes of a dialog rather than fresh requests, so ignored as stale within 2 s after a
//     wait ended, within 2 s after a Stop, or with the prompt_id of the last Stop; a
//     ScreenPromptSeen with new text is a new dialog and never stale.
// Output alone never ends a wait: TUIs redraw spinners while a dialog is up. Titles, bells
// and OSC 9 never end a wait either; a keystroke, a hook or a decision does.
std::optional<StateChange> reduce(AgentStatus& status, const Event& ev);

}  // namespace tether
