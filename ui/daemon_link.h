// DaemonLink: tether-ui's connection to tetherd, on its own thread (a libevent loop; the
// wire library's Client for framing) so the window never blocks on a socket. It connects,
// sends `watch`, folds the snapshot and the notices into a Model, asks `ui_settings` for
// what the window takes from the daemon's configuration, fetches the selected session's
// screen when told it changed, runs the window's requests (posted to its loop's Mailbox),
// reconnects with backoff when the daemon goes away, and chimes once per transition into
// a needs-you state (through the sound notifier plugin, loaded with the notifier library,
// when one loads; else by asking the window to ring; never in the rules' quiet hours or
// for a muted session). After every change it calls wake() (from its thread), which the
// window turns into glfwPostEmptyEvent.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "model.h"
#include "base/paths.h"

namespace tether::ui {

struct LinkOptions {
    Paths paths;
    // The notifier plugin that chimes (a name or a path; "" for none: the window rings
    // its bell), and its options.
    std::string chime_plugin = "sound";
    std::map<std::string, std::string> chime_options;
    std::function<void()> wake;            // any thread; must be cheap
};

class DaemonLink {
public:
    explicit DaemonLink(LinkOptions options);
    ~DaemonLink();  // stops the thread; nothing is sent to the daemon
    DaemonLink(const DaemonLink&) = delete;
    DaemonLink& operator=(const DaemonLink&) = delete;

    // A copy of the model, and a counter that changes whenever the model does.
    Model model() const;
    uint64_t version() const;
    // Chimes the window should ring itself (no sound plugin): a counter to compare.
    uint64_t bells() const;

    // Fire and forget; a failure shows up as model().last_error.
    void request(nlohmann::json req);
    // The session whose screen the window shows (0: none): subscribed and fetched.
    void select(int64_t session);
    // Sessions that must not chime (muted or snoozed in the window).
    void set_muted(std::set<int64_t> sessions);

private:
    struct Io;
    std::unique_ptr<Io> m_io;
    std::thread m_thread;
};

}  // namespace tether::ui
