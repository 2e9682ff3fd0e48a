// Where tether keeps things: the state directory (event log, daemon log, lock) and the
// runtime directory (control socket). Flags win over environment over XDG defaults.
#pragma once

#include <string>

#include "base/result.h"

namespace tether {

struct Paths {
    std::string state_dir;
    std::string socket_path;
    std::string config_path;  // empty: none given and no file at the default place

    std::string event_log() const { return state_dir + "/events.db"; }
    std::string daemon_log() const { return state_dir + "/tetherd.log"; }
    std::string lock_file() const { return state_dir + "/tetherd.lock"; }
};

// $XDG_CONFIG_HOME/tether/config.yaml, else ~/.config/tether/config.yaml
std::string default_config_path();

// Empty arguments mean "not given on the command line".
Paths resolve_paths(const std::string& state_dir_flag, const std::string& socket_flag,
                    const std::string& config_flag = "");

// mkdir -p with mode 0700 for the last component; an existing directory must be ours,
// and loses any group/other bits.
Status ensure_private_dir(const std::string& path);

}  // namespace tether
