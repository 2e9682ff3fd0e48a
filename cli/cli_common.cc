// The helpers every command group shares (cli_common.h).
#include "cli_common.h"

#include <cstdio>

#include "base/clock.h"

namespace tether {

using nlohmann::json;

int fail(const std::string& message, int code) {
    std::fprintf(stderr, "tether: %s\n", message.c_str());
    return code;
}

Result<Client> connect_or_explain(const Paths& paths, bool autostart) {
    auto c = Client::connect(paths, autostart);
    if (!c) std::fprintf(stderr, "tether: %s\n", c.error().message.c_str());
    return c;
}

Result<Client> connect_or_explain(const Globals& g, bool autostart) { return connect_or_explain(g.paths(), autostart); }

int cmd_simple(const Globals& g, json req, const std::function<void(const json&)>& print) {
    auto c = connect_or_explain(g, true);
    if (!c) return k_exit_unreachable;
    auto r = c->request(std::move(req));
    if (!r) return fail(r.error().message);
    if (print) print(*r);
    return 0;
}

json session_ref(const std::string& s) {
    if (!s.empty() && s.size() < 18 && s.find_first_not_of("0123456789") == std::string::npos) return std::stoll(s);
    return s;
}

std::string human_duration(int64_t us) {
    int64_t s = us / 1000000;
    if (s < 0) s = 0;
    if (s < 60) return std::to_string(s) + "s";
    if (s < 3600) return std::to_string(s / 60) + "m";
    if (s < 86400) return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
    return std::to_string(s / 86400) + "d" + std::to_string(s % 86400 / 3600) + "h";
}

std::string human_bytes(int64_t n) {
    const char* units[] = {"B", "K", "M", "G", "T"};
    double v = static_cast<double>(n);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.1f%s", v, units[u]);
    return buf;
}

void warn_log_health(const nlohmann::json& reply, FILE* to) {
    if (!reply.contains("log_error")) return;
    std::fprintf(to, "tether: WARNING: the event log cannot be written (%s) for %s; %lld events (%s) wait in the daemon's "
                 "memory and sessions' output waits in their holders (their programs block). Free space in the state "
                 "directory or make it writable: everything is logged once it can be.\n",
                 reply["log_error"].get<std::string>().c_str(),
                 human_duration(now_us() - reply.value("log_error_since_us", int64_t(0))).c_str(),
                 static_cast<long long>(reply.value("log_waiting_events", int64_t(0))),
                 human_bytes(reply.value("log_waiting_bytes", int64_t(0))).c_str());
}

}  // namespace tether
