// The Open action: a configured command line that attaches to the session in the user's
// terminal, split into words like a shell would (but run without one), with placeholders
// expanded inside each word, and started fully detached from the daemon.
#pragma once

#include <string>
#include <vector>

namespace desktop {

struct OpenPlaceholders {
    std::string session;     // {session}: the session's name
    std::string session_id;  // {session_id}
    std::string cwd;         // {cwd}
};

class OpenCommand {
public:
    // template_text: e.g. "x-terminal-emulator -e {tether} attach {session}"; "" disables
    // Open. {tether} is the tether CLI beside the running daemon, else "tether" on PATH.
    // Throws std::invalid_argument naming the problem for a line that does not split
    // (an unclosed quote).
    explicit OpenCommand(const std::string& template_text);

    bool enabled() const { return !m_words.empty(); }
    // The words with the placeholders replaced; a session name stays one word whatever
    // it contains, and no shell ever sees it.
    std::vector<std::string> argv_for(const OpenPlaceholders& p) const;

private:
    std::vector<std::string> m_words;
    std::string m_tether;
};

// Starts argv (argv[0] searched on PATH) in a new session (setsid), stdin/out/err on
// /dev/null, no descriptor of ours inherited, and not our child (double fork), so it
// leaves no zombie and outlives the daemon. Throws std::runtime_error with the reason.
void spawn_detached(const std::vector<std::string>& argv);

}  // namespace desktop
