// PtyProcess: one child process on a fresh pseudo-terminal, the only place that forks
// and execs an agent. It owns the master fd and the pid; reading, writing, the event loop
// and logging belong to the caller (so this interface can move into a holder process).
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "wire/holder_protocol.h"  // SpawnRequest

namespace tether {

// Invariant: the pid is reaped only through try_reap() (or the destructor); nobody else
// may waitpid() it, waitpid(-1) included.
class PtyProcess {
public:
    // How the child ended. `code` is the exit code, or the signal number when signaled.
    struct Exit {
        bool signaled = false;
        int code = 0;
        bool core_dumped = false;
        bool operator==(const Exit&) const = default;
    };

    // Returns once the child has exec'd: a command that cannot run (not found, not
    // executable, cwd missing) is an error here, and that child is already reaped.
    static Result<std::unique_ptr<PtyProcess>> spawn(const SpawnRequest& req);

    // Closes the master, which hangs up the terminal (the kernel sends SIGHUP to the
    // child and its foreground group); does not kill the child otherwise, and reaps it
    // only if it has already exited. A child still running is the caller's to reap.
    ~PtyProcess();
    PtyProcess(const PtyProcess&) = delete;
    PtyProcess& operator=(const PtyProcess&) = delete;

    int master_fd() const { return m_master; }  // non-blocking, close-on-exec
    pid_t pid() const { return m_pid; }

    // TIOCSWINSZ on the master; the kernel sends SIGWINCH to the foreground group.
    Status resize(int cols, int rows);
    // Sends `sig` to the child's process group (the child leads its own session).
    // An error once the child has been reaped: its pid may belong to someone else.
    Status signal(int sig);
    // Non-blocking: nullopt while the child runs, then its Exit (the same one each call).
    std::optional<Exit> try_reap();

private:
    PtyProcess(int master, pid_t pid) : m_master(master), m_pid(pid) {}

    int m_master;
    pid_t m_pid;
    std::optional<Exit> m_exit;
};

}  // namespace tether
