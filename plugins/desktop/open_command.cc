// The Open action's command: GLib splits it (g_shell_parse_argv) and spawns it
// (g_spawn_async: an intermediate child makes the grandchild init's, so nothing is left
// to reap, and every descriptor above stderr is closed in the child).
#include "open_command.h"

#include <glib.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

namespace desktop {

namespace {

// The tether CLI installed beside the running binary (tetherd), if there is one.
std::string tether_beside_us() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        auto cli = exe.parent_path() / "tether";
        if (access(cli.c_str(), X_OK) == 0) return cli.string();
    }
    return "tether";
}

void child_setup(gpointer) {
    setsid();  // async-signal-safe; its own session: no controlling terminal, no shared signals
}

}  // namespace

OpenCommand::OpenCommand(const std::string& template_text) {
    if (template_text.find_first_not_of(" \t") == std::string::npos) return;
    gint argc = 0;
    gchar** argv = nullptr;
    GError* error = nullptr;
    if (!g_shell_parse_argv(template_text.c_str(), &argc, &argv, &error)) {
        std::string why = error ? error->message : "cannot split it into words";
        g_clear_error(&error);
        throw std::invalid_argument("open_command: " + why);
    }
    for (gint i = 0; i < argc; ++i) m_words.emplace_back(argv[i]);
    g_strfreev(argv);
    m_tether = tether_beside_us();
}

std::vector<std::string> OpenCommand::argv_for(const OpenPlaceholders& p) const {
    std::vector<std::string> argv;
    for (std::string w : m_words) {
        // One pass per placeholder over the template word only: a value that contains
        // "{cwd}" is never expanded again.
        std::string out;
        for (size_t i = 0; i < w.size();) {
            auto starts = [&](const char* k) { return w.compare(i, std::char_traits<char>::length(k), k) == 0; };
            if (starts("{session_id}")) out += p.session_id, i += 12;
            else if (starts("{session}")) out += p.session, i += 9;
            else if (starts("{cwd}")) out += p.cwd, i += 5;
            else if (starts("{tether}")) out += m_tether, i += 8;
            else out += w[i++];
        }
        argv.push_back(std::move(out));
    }
    return argv;
}

void spawn_detached(const std::vector<std::string>& argv) {
    if (argv.empty()) throw std::runtime_error("open: no command");
    std::vector<gchar*> args;
    for (const auto& a : argv) args.push_back(const_cast<gchar*>(a.c_str()));
    args.push_back(nullptr);
    GError* error = nullptr;
    auto flags = static_cast<GSpawnFlags>(G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL |
                                          G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL);
    if (!g_spawn_async(nullptr, args.data(), nullptr, flags, &child_setup, nullptr, nullptr, &error)) {
        std::string why = error ? error->message : "unknown error";
        g_clear_error(&error);
        throw std::runtime_error("open: cannot start " + argv[0] + ": " + why);
    }
}

}  // namespace desktop
