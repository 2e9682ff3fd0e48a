// Notifier plugin files: where they are looked for, and loading one (Boost.DLL) with its
// ABI checked against plugins/notifier_abi.h. Shared by the daemon's plugin host, the
// CLI's `config check` and tether-ui's chime; instances are notifier_instance.h's.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

struct notifier_plugin;

namespace tether {

// The standard search path, in order: extra (from the config), the running binary's
// directory and <bindir>/../lib/tether/plugins (the build tree and an install look the
// same), ~/.local/lib/tether/plugins, <install prefix>/lib/tether/plugins.
std::vector<std::string> plugin_search_path(const std::vector<std::string>& extra = {});

using PluginOptions = std::map<std::string, std::string>;  // flat, as the ABI passes them

struct PluginInfo {
    std::string name;         // what the plugin calls itself
    std::string description;
    std::string path;         // the file loaded
    uint32_t abi_major = 0, abi_minor = 0;
};

// One loaded plugin file. Stays loaded while anyone holds it: every instance does.
class NotifierLibrary {
public:
    ~NotifierLibrary();
    const notifier_plugin& plugin() const { return *m_plugin; }
    const std::string& path() const { return m_path; }
    PluginInfo info() const;

private:
    friend class NotifierLibraries;
    struct Handle;  // the boost::dll::shared_library, kept out of this header
    NotifierLibrary() = default;
    std::unique_ptr<Handle> m_handle;
    const notifier_plugin* m_plugin = nullptr;
    std::string m_path;
};

// The libraries loaded along one search path, each file once.
class NotifierLibraries {
public:
    explicit NotifierLibraries(std::vector<std::string> search_path) : m_search_path(std::move(search_path)) {}

    // plugin: a name ("webhook": tether-notifier-webhook.so along the search path) or a
    // path containing '/'. Errors name the file and the problem (not found, cannot load,
    // no entry symbol, a wrong ABI version or struct size, NULL functions).
    Result<std::shared_ptr<const NotifierLibrary>> load(const std::string& plugin);
    // "plugin webhook (/path/tether-notifier-webhook.so): ", or "plugin /path: " for a path.
    static std::string where(const std::string& plugin, const std::string& path);

private:
    Result<std::string> resolve(const std::string& plugin) const;

    std::vector<std::string> m_search_path;
    std::map<std::string, std::shared_ptr<const NotifierLibrary>> m_loaded;  // by path
};

}  // namespace tether
