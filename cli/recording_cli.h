// The CLI side of the recording commands: timeline, export and replay (replay_player.h
// plays). Each reads a stream from the daemon (ReplyStream) and returns the CLI exit
// code (0, 1 failed, 3 daemon unreachable). recording_cli.cc also registers them, with
// grep and gc (add_recording_commands in commands.h).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "wire/client.h"
#include "base/paths.h"
#include "base/result.h"

namespace tether {

// Sends req and passes each Bytes frame of the answer to on_bytes until the reply; an
// error reply (or an error from on_bytes) is the Error. The reply on success.
Result<nlohmann::json> stream_request(Client& client, nlohmann::json req,
                                      const std::function<Status(std::string_view)>& on_bytes);

int cli_timeline(const Paths& paths, const nlohmann::json& session, bool as_json);
int cli_export(const Paths& paths, const nlohmann::json& session, const std::string& format, const std::string& out_path);

struct ReplayArgs {
    std::string from, to;  // moments (timeline.h parse_moment); empty: start, end
    double speed = 1.0;
    double max_idle_s = 0;  // 0: no cap
};
int cli_replay(const Paths& paths, const nlohmann::json& session, const ReplayArgs& args);

// Adds {"<key>_us"} or {"<key>_offset_us"} to req from a moment; false if not one.
bool add_moment(nlohmann::json& req, const std::string& key, const std::string& text);

}  // namespace tether
