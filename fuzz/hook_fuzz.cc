// Fuzz target `hook`: a hook payload as an agent's hook writes it, through tether-hook's
// request (`hook`, then one Bytes frame) into an in-process daemon: intake (sessions of
// their own for agents tether did not start, pending permission requests and their
// answers), then the agent tracker, which runs the state reducer over the committed
// HookReceived. Input: a selector byte (agent, wait), then the payload. Several payloads
// per input, separated by "\n---\n", go through one after another, so sequences of
// hooks (a PreToolUse then its PermissionRequest...) reach the reducer.
#include "fuzz_daemon.h"
#include "fuzz_support.h"
#include "fuzz_target.h"
#include "wire/protocol.h"

using namespace tether;

TETHER_FUZZ_TARGET(hook) {
    static const char* k_agents[] = {"claude", "codex", "gemini", "aider", "x"};
    fuzz::FuzzInput in(data, size);
    uint8_t sel = in.byte();
    std::string agent = k_agents[sel % 5];
    long wait_ms = (sel & 0x80) ? 5000 : 0;
    static fuzz::FuzzDaemon daemon;
    while (!in.empty()) {
        std::string_view payload = in.until("\n---\n");
        nlohmann::json req{{"id", 1}, {"cmd", "hook"}, {"agent", agent}, {"session", ""}, {"wait_ms", wait_ms}};
        daemon.converse({encode_json_frame(req), encode_frame(FrameType::Bytes, payload)});
    }
    return 0;
}
