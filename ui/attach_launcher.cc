// Spawning the attach terminal.
#include "attach_launcher.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace tether::ui {

std::vector<std::string> terminal_command(const std::vector<std::string>& configured) {
    const char* env = std::getenv("TETHER_UI_TERMINAL");
    if (!env || !*env) return configured;
    std::vector<std::string> argv;
    std::istringstream words(env);
    for (std::string w; words >> w;) argv.push_back(w);
    return argv.empty() ? configured : argv;
}

std::string tether_cli_path() {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        for (auto candidate : {self.parent_path() / "tether", self.parent_path().parent_path() / "daemon" / "tether"})
            if (std::filesystem::exists(candidate, ec)) return candidate.string();
    }
    return "tether";
}

Status open_attach_terminal(const std::vector<std::string>& terminal, int64_t session, const std::string& socket_path) {
    if (terminal.empty()) return Error{"attach: no terminal emulator configured (ui.terminal)"};
    std::vector<std::string> args = terminal;
    for (std::string a : {tether_cli_path(), std::string("attach"), std::to_string(session)}) args.push_back(a);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) return errno_error("attach: pipe");
    pid_t pid = fork();
    if (pid < 0) return errno_error("attach: fork");
    if (pid == 0) {
        // Double fork: the terminal is nobody's child here, so no zombie and no tie.
        setsid();
        if (fork() != 0) _exit(0);
        setenv("TETHER_SOCKET", socket_path.c_str(), 1);
        execvp(argv[0], argv.data());
        int err = errno;
        (void)!write(pipefd[1], &err, sizeof err);
        _exit(127);
    }
    close(pipefd[1]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    int err = 0;
    ssize_t n = read(pipefd[0], &err, sizeof err);
    close(pipefd[0]);
    if (n == sizeof err) return Error{"attach: cannot run " + terminal[0] + ": " + std::strerror(err)};
    return {};
}

}  // namespace tether::ui
