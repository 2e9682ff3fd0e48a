// Finding and loading notifier plugins. Boost exceptions are caught here; none leaves
// this file.
#include "notifier/notifier_library.h"

#include <dlfcn.h>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cctype>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <filesystem>

#include "base/log.h"
#include "notifier_abi.h"

#ifndef TETHER_PLUGIN_INSTALL_DIR
#define TETHER_PLUGIN_INSTALL_DIR "/usr/local/lib/tether/plugins"
#endif

namespace tether {

namespace fs = std::filesystem;

namespace {

constexpr const char* k_entry_symbol = "notifier_plugin_entry";
// The part of notifier_plugin that ABI 1.0 defines; later minors only append.
constexpr size_t k_plugin_size_1_0 = offsetof(notifier_plugin, destroy) + sizeof(void*);

std::string abi_text(uint32_t major, uint32_t minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

bool valid_name(const std::string& name) {
    if (name.empty()) return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
    return true;
}

// The checks a plugin's description must pass before anything of it is called.
Status check_abi(const notifier_plugin* p, const std::string& where) {
    if (!p) return Error{where + k_entry_symbol + " returned NULL"};
    if (p->abi_major != NOTIFIER_ABI_MAJOR || p->abi_minor > NOTIFIER_ABI_MINOR)
        return Error{where + "ABI version " + abi_text(p->abi_major, p->abi_minor) + ", this tether speaks " +
                     abi_text(NOTIFIER_ABI_MAJOR, NOTIFIER_ABI_MINOR)};
    if (p->struct_size < k_plugin_size_1_0)
        return Error{where + "notifier_plugin struct_size " + std::to_string(p->struct_size) +
                     " is smaller than ABI " + abi_text(p->abi_major, p->abi_minor) + " defines (" +
                     std::to_string(k_plugin_size_1_0) + ")"};
    if (!p->name || !p->create || !p->send || !p->destroy)
        return Error{where + "notifier_plugin has a NULL name, create, send or destroy"};
    return {};
}

}  // namespace

std::vector<std::string> plugin_search_path(const std::vector<std::string>& extra) {
    std::vector<std::string> path = extra;
    try {
        std::error_code ec;
        fs::path exe = boost::dll::program_location(ec);
        if (!ec) {
            path.push_back(exe.parent_path().string());
            path.push_back((exe.parent_path().parent_path() / "lib/tether/plugins").lexically_normal().string());
        }
    } catch (const std::exception& e) {
        log_warn(std::string("plugins: cannot find the running binary: ") + e.what());
    }
    if (const char* home = std::getenv("HOME"); home && *home)
        path.push_back(std::string(home) + "/.local/lib/tether/plugins");
    path.push_back(TETHER_PLUGIN_INSTALL_DIR);
    return path;
}

struct NotifierLibrary::Handle {
    boost::dll::shared_library library;
};

NotifierLibrary::~NotifierLibrary() = default;

PluginInfo NotifierLibrary::info() const {
    return PluginInfo{m_plugin->name, m_plugin->description ? m_plugin->description : "", m_path, m_plugin->abi_major,
                      m_plugin->abi_minor};
}

std::string NotifierLibraries::where(const std::string& plugin, const std::string& path) {
    if (plugin.find('/') != std::string::npos) return "plugin " + path + ": ";
    return "plugin " + plugin + " (" + path + "): ";
}

Result<std::string> NotifierLibraries::resolve(const std::string& plugin) const {
    std::error_code ec;
    if (plugin.find('/') != std::string::npos) {
        fs::path p = fs::absolute(plugin, ec).lexically_normal();
        if (ec || !fs::is_regular_file(p, ec)) return Error{"plugin " + plugin + ": no such file"};
        return p.string();
    }
    if (!valid_name(plugin))
        return Error{"plugin \"" + plugin + "\": a name is letters, digits, '-' and '_' (or give a path)"};
    std::string file = "tether-notifier-" + plugin + ".so";
    std::string searched;
    for (const auto& dir : m_search_path) {
        if (dir.empty()) continue;
        fs::path p = (fs::path(dir) / file).lexically_normal();
        if (fs::is_regular_file(p, ec)) return fs::absolute(p, ec).string();
        searched += (searched.empty() ? "" : ", ") + dir;
    }
    return Error{"plugin " + plugin + ": " + file + " not found in " + (searched.empty() ? "(empty search path)" : searched)};
}

Result<std::shared_ptr<const NotifierLibrary>> NotifierLibraries::load(const std::string& plugin) {
    auto path = resolve(plugin);
    if (!path) return path.error();
    if (auto it = m_loaded.find(*path); it != m_loaded.end()) return it->second;

    const std::string at = where(plugin, *path);
    std::shared_ptr<NotifierLibrary> lib(new NotifierLibrary());
    lib->m_path = *path;
    lib->m_handle = std::make_unique<NotifierLibrary::Handle>();
    try {
        std::error_code ec;
        dlerror();
        // rtld_now: an unresolved symbol in the plugin fails here, not in the middle of a send.
        auto& library = lib->m_handle->library;
        library.load(*path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
        if (ec) {
            const char* why = dlerror();
            return Error{at + "cannot load: " + (why ? why : ec.message())};
        }
        if (!library.has(k_entry_symbol)) return Error{at + "missing symbol " + k_entry_symbol};
        auto& entry = library.get<const notifier_plugin*()>(k_entry_symbol);
        lib->m_plugin = entry();
    } catch (const std::exception& e) {
        return Error{at + "cannot load: " + e.what()};
    }
    if (auto s = check_abi(lib->m_plugin, at); !s) return s.error();
    m_loaded.emplace(*path, lib);
    return std::shared_ptr<const NotifierLibrary>(lib);
}

}  // namespace tether
