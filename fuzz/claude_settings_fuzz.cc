// Fuzz target `claude_settings`: a Claude Code settings file as `tether hooks
// install|uninstall|status` finds it on disk: read, tether's entries merged in or taken
// out, written back. Checks: install leaves tether's hooks on every event it wants and
// is idempotent; uninstall after install equals uninstall before (every other hook, and
// everything else, untouched); a written file reads back as what was written.
#include <filesystem>
#include <fstream>
#include <set>

#include "agent/claude_settings.h"
#include "fuzz_support.h"
#include "fuzz_target.h"

using namespace tether;

TETHER_FUZZ_TARGET(claude_settings) {
    static const std::string dir = fuzz::scratch_dir() + "/claude";
    static const std::string path = dir + "/settings.json";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    auto settings = read_settings(path);
    if (!settings) {
        FUZZ_CHECK(settings.error().message.find(path) != std::string::npos, settings.error().message);
        return 0;
    }
    const nlohmann::json entries = tether_hook_entries("/opt/tether/bin/tether-hook", 120);
    std::set<std::string> wanted;
    for (auto it = entries.begin(); it != entries.end(); ++it) wanted.insert(it.key());

    (void)tether_hook_events(*settings);
    // A file holding `null` reads as no settings, like an empty one.
    nlohmann::json removed = remove_tether_hooks(settings->is_null() ? nlohmann::json::object() : *settings);
    FUZZ_CHECK(tether_hook_events(removed).empty(), "uninstall leaves no tether hook");
    FUZZ_CHECK(remove_tether_hooks(removed) == removed, "uninstall is idempotent");
    auto merged = merge_tether_hooks(*settings, entries);
    if (!merged) return 0;  // not an object, or hooks of the wrong shape: refused, untouched
    auto events = tether_hook_events(*merged);
    FUZZ_CHECK(std::set<std::string>(events.begin(), events.end()) == wanted, merged->dump());
    auto again = merge_tether_hooks(*merged, entries);
    FUZZ_CHECK(again && *again == *merged, "install is idempotent");
    FUZZ_CHECK(remove_tether_hooks(*merged) == removed, "install then uninstall leaves the rest as it was");

    auto backup = write_settings(path, *merged);
    FUZZ_CHECK(bool(backup), backup ? "" : backup.error().message);
    auto back = read_settings(path);
    FUZZ_CHECK(back && *back == *merged, "the written file reads back");
    return 0;
}
