// The `fleet:` section of config.yaml: where the NATS server is, this host's name in the
// fleet, how to authenticate, and what to publish. Parsed with every error located
// (file:line:column) like the rest of the configuration; no section, no fleet.
//
//   fleet:
//     url: nats://nats.example.net:4222      # or tls://...; a list for a cluster
//     host: laptop                           # this daemon's name: one subject token
//     credentials: ~/.config/tether/laptop.creds   # NATS user JWT + nkey seed, mode 0600
//     # or user: NAME + password_env: VAR, or token_env: VAR (secrets from the environment)
//     tls: {ca: ~/.config/tether/nats-ca.pem, cert: PATH, key: PATH}
//     hosts: [laptop, devbox, buildbox]      # messages from any other host are skipped
//     notify: true                           # run this daemon's rules over every host's transitions
//     output: false                          # also publish terminal output (large)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"

namespace YAML {
class Node;
}

namespace tether {

struct FleetConfig {
    std::vector<std::string> urls;  // empty: no fleet (the default)
    std::string host;
    std::string stream = "TETHER";
    std::string credentials;  // path of a .creds file (JWT and seed)
    std::string user;
    std::string password;   // from password_env, in memory only
    std::string token;      // from token_env, in memory only
    std::string secret_source;  // "$VAR" for what to print instead of a secret
    std::string tls_ca, tls_cert, tls_key;
    std::vector<std::string> hosts;  // the fleet's hosts; empty: any host
    bool notify = false;
    bool output = false;
    int64_t max_age_s = 30 * 86400;   // the stream's limit, when this daemon creates it
    int64_t notify_window_s = 600;    // a transition older than this is not notified
    long request_timeout_ms = 5000;   // tether approve host:REQ

    bool enabled() const { return !urls.empty(); }
    bool knows_host(const std::string& h) const;
};

// True for a name usable as one NATS subject token: letters, digits, '-' and '_'.
bool valid_fleet_host(const std::string& host);

// Reads root["fleet"] into out; returns every error found.
std::vector<ConfigError> parse_fleet(const YAML::Node& root, const std::string& file, FleetConfig& out);

}  // namespace tether
