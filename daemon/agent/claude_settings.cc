// tether's entries in Claude Code settings files.
#include "agent/claude_settings.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/json_text.h"
#include "wire/protocol.h"

namespace tether {

namespace {

bool is_tether_handler(const nlohmann::json& h) {
    if (!h.is_object()) return false;
    auto it = h.find("command");
    return it != h.end() && it->is_string() && it->get<std::string>().find("tether-hook") != std::string::npos;
}

}  // namespace

nlohmann::json claude_hook_settings(const std::string& hook_command, long permission_wait_s) {
    nlohmann::json hooks = nlohmann::json::object();
    for (const char* event : {"SessionStart", "UserPromptSubmit", "PreToolUse", "PermissionRequest", "PostToolUse",
                              "PostToolUseFailure", "Notification", "Stop", "StopFailure", "SessionEnd", "Elicitation"}) {
        bool waits = std::string(event) == "PermissionRequest";
        // The hook never takes long: it fails open; the timeout is only a backstop.
        nlohmann::json handler{{"type", "command"},
                               {"command", hook_command + (waits ? " --wait " + std::to_string(permission_wait_s) : "")},
                               {"timeout", waits ? permission_wait_s + 10 : 10}};
        hooks[event] = nlohmann::json::array({{{"matcher", ""}, {"hooks", nlohmann::json::array({handler})}}});
    }
    return {{"hooks", hooks}};
}

nlohmann::json tether_hook_entries(const std::string& hook_binary, long permission_wait_s) {
    return claude_hook_settings(hook_binary + " --agent claude", permission_wait_s)["hooks"];
}

nlohmann::json remove_tether_hooks(nlohmann::json settings) {
    if (!settings.is_object() || !settings.contains("hooks") || !settings["hooks"].is_object()) return settings;
    nlohmann::json& hooks = settings["hooks"];
    for (auto ev = hooks.begin(); ev != hooks.end();) {
        if (ev->is_array()) {
            nlohmann::json groups = nlohmann::json::array();
            for (auto group : *ev) {
                if (group.is_object() && group.contains("hooks") && group["hooks"].is_array()) {
                    nlohmann::json kept = nlohmann::json::array();
                    for (const auto& h : group["hooks"])
                        if (!is_tether_handler(h)) kept.push_back(h);
                    if (kept.empty()) continue;
                    group["hooks"] = kept;
                }
                groups.push_back(group);
            }
            if (groups.empty()) {
                ev = hooks.erase(ev);
                continue;
            }
            *ev = groups;
        }
        ++ev;
    }
    if (hooks.empty()) settings.erase("hooks");
    return settings;
}

Result<nlohmann::json> merge_tether_hooks(nlohmann::json settings, const nlohmann::json& entries) {
    if (settings.is_null()) settings = nlohmann::json::object();
    if (!settings.is_object()) return Error{"the settings are not a JSON object"};
    if (settings.contains("hooks") && !settings["hooks"].is_object()) return Error{"\"hooks\" is not a JSON object"};
    if (settings.contains("hooks"))
        for (auto it = settings["hooks"].begin(); it != settings["hooks"].end(); ++it)
            if (!it->is_array()) return Error{"hooks." + it.key() + " is not an array"};
    settings = remove_tether_hooks(std::move(settings));
    nlohmann::json& hooks = settings["hooks"];
    for (auto it = entries.begin(); it != entries.end(); ++it)
        for (const auto& group : *it) hooks[it.key()].push_back(group);
    return settings;
}

std::vector<std::string> tether_hook_events(const nlohmann::json& settings) {
    std::vector<std::string> out;
    if (!settings.is_object() || !settings.contains("hooks") || !settings["hooks"].is_object()) return out;
    for (auto ev = settings["hooks"].begin(); ev != settings["hooks"].end(); ++ev) {
        bool found = false;
        if (ev->is_array())
            for (const auto& group : *ev)
                if (group.is_object() && group.contains("hooks") && group["hooks"].is_array())
                    for (const auto& h : group["hooks"]) found = found || is_tether_handler(h);
        if (found) out.push_back(ev.key());
    }
    return out;
}

Result<nlohmann::json> read_settings(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return nlohmann::json::object();
    std::ifstream in(path, std::ios::binary);
    if (!in) return errno_error("hooks: cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
    if (!json_nesting_within(text))
        return Error{"hooks: " + path + " nests deeper than " + std::to_string(k_max_json_depth) + " levels; refusing to touch it"};
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for 1e99999 (fuzz: finding-number-overflow)
        return Error{"hooks: cannot parse " + path + " (" + e.what() + "); refusing to touch it"};
    }
}

Result<std::string> write_settings(const std::string& path, const nlohmann::json& settings) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path p(path);
    if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
    std::string backup;
    if (fs::exists(p, ec)) {
        auto stamp = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
        backup = path + ".tether-backup-" + std::to_string(stamp);
        fs::copy_file(p, backup, fs::copy_options::overwrite_existing, ec);
        if (ec) return Error{"hooks: cannot back up " + path + ": " + ec.message()};
    }
    std::string tmp = path + ".tether-tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << settings.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        if (!out) return Error{"hooks: cannot write " + tmp};
    }
    fs::rename(tmp, p, ec);
    if (ec) return Error{"hooks: cannot replace " + path + ": " + ec.message()};
    return backup;
}

}  // namespace tether
