// Path resolution and private directories.
#include "base/paths.h"


#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace tether {

namespace {

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

std::string home_dir() {
    std::string home = env_or_empty("HOME");
    return home.empty() ? std::string("/") : home;
}

}  // namespace

std::string default_config_path() {
    const char* xdg = std::getenv("XDG_CONFIG_HOME");
    const char* home = std::getenv("HOME");
    std::string base = xdg && *xdg ? xdg : std::string(home ? home : "") + "/.config";
    return base + "/tether/config.yaml";
}

Paths resolve_paths(const std::string& state_dir_flag, const std::string& socket_flag, const std::string& config_flag) {
    Paths p;
    p.config_path = config_flag;
    if (p.config_path.empty()) p.config_path = env_or_empty("TETHER_CONFIG");
    if (p.config_path.empty()) {
        std::error_code ec;
        std::string def = default_config_path();
        if (std::filesystem::exists(def, ec)) p.config_path = def;
    }
    if (!p.config_path.empty()) p.config_path = std::filesystem::absolute(p.config_path).lexically_normal().string();
    p.state_dir = state_dir_flag;
    if (p.state_dir.empty()) p.state_dir = env_or_empty("TETHER_STATE_DIR");
    if (p.state_dir.empty()) {
        std::string xdg = env_or_empty("XDG_STATE_HOME");
        p.state_dir = (xdg.empty() ? home_dir() + "/.local/state" : xdg) + "/tether";
    }
    p.socket_path = socket_flag;
    if (p.socket_path.empty()) p.socket_path = env_or_empty("TETHER_SOCKET");
    if (p.socket_path.empty()) {
        std::string runtime = env_or_empty("XDG_RUNTIME_DIR");
        std::string dir = runtime.empty() ? "/tmp/tether-" + std::to_string(getuid()) : runtime + "/tether";
        p.socket_path = dir + "/tetherd.sock";
    }
    // Relative paths would change meaning once the daemon chdirs to /.
    p.state_dir = std::filesystem::absolute(p.state_dir).lexically_normal().string();
    p.socket_path = std::filesystem::absolute(p.socket_path).lexically_normal().string();
    return p;
}

Status ensure_private_dir(const std::string& path) {
    std::error_code ec;
    std::filesystem::path dir(path);
    if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
    if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return errno_error("mkdir " + path);
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) return errno_error("stat " + path);
    if (!S_ISDIR(st.st_mode)) return Error{path + " exists and is not a directory"};
    if (st.st_uid != getuid())
        return Error{path + " belongs to uid " + std::to_string(st.st_uid) + ", not to you (uid " +
                     std::to_string(getuid()) + "); refusing to use it"};
    if ((st.st_mode & 077) != 0 && chmod(path.c_str(), 0700) != 0) return errno_error("chmod 0700 " + path);
    return {};
}

}  // namespace tether
