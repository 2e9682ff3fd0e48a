// Surveying and ending holders without a daemon.
#include "holder_survey.h"

#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "wire/holder_link.h"

namespace tether {

std::vector<HolderReport> survey_holders(const std::string& holders_dir) {
    std::vector<HolderReport> out;
    auto sockets = list_holder_sockets(holders_dir);
    if (!sockets) return out;  // no directory: no holders
    for (const auto& [session, socket] : *sockets) {
        HolderReport r;
        r.session = session;
        r.socket = socket;
        auto link = HolderLink::connect(r.socket, 2000);
        if (link) {
            r.status = HolderReport::Status::Free;
            r.hello = (*link)->hello();
        } else if (link.error().message.find("another daemon is connected") != std::string::npos) {
            r.status = HolderReport::Status::Connected;
            r.detail = "a daemon is connected to it";
        } else {
            r.status = HolderReport::Status::Dead;
            r.detail = link.error().message;
        }
        out.push_back(std::move(r));
    }
    return out;
}

Status end_holder(const std::string& socket_path, int grace_ms) {
    auto link = HolderLink::connect(socket_path, 2000);
    if (!link) return link.error();
    HolderLink& l = **link;
    l.resume(l.hello().acked);
    if (!l.hello().exited) l.signal(SIGHUP);
    auto start = std::chrono::steady_clock::now();
    bool killed = false, exited = l.hello().exited;
    uint64_t seen = l.hello().acked;
    for (;;) {
        if (!l.write()) return Error{"the holder went away before its program ended"};
        auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
        if (!exited && !killed && waited > grace_ms) {
            l.signal(SIGKILL);
            killed = true;
        }
        if (waited > 3 * grace_ms + 2000) return Error{"the holder's program did not end"};
        pollfd p{l.fd(), POLLIN, 0};
        if (poll(&p, 1, 50) < 0 && errno != EINTR) return errno_error("poll failed");
        bool open = l.read(1u << 20);
        std::string error;
        while (auto frame = l.next(&error)) {
            if (frame->type == HolderMsg::Output) {
                // Nobody will log this output: confirm it so the window keeps moving.
                auto offset = holder_payload_offset(frame->payload);
                if (offset) seen = std::max(seen, *offset + frame->payload.size() - 8);
                l.ack(seen);
            } else if (frame->type == HolderMsg::Exit) {
                exited = true;
                l.collect();
            }
        }
        if (!error.empty()) return Error{"holder: " + error};
        if (!open) return exited ? Status{} : Status(Error{"the holder ended before reporting its program's exit"});
        if (exited) l.collect();
    }
}

}  // namespace tether
