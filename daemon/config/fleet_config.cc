// The fleet section of the configuration. yaml-cpp throws; every throw is caught here.
#include "config/fleet_config.h"

#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include "config/config_error_at.h"

namespace tether {

namespace {

class FleetParser {
public:
    FleetParser(const std::string& file, FleetConfig& out) : m_file(file), m_out(out) {}

    void parse(const YAML::Node& n) {
        if (!n.IsMap()) return error(n, "fleet must be a mapping", "fleet: {url: nats://host:4222, host: laptop}");
        static const std::set<std::string> known{"url",  "host",  "stream", "credentials", "user",
                                                 "password_env", "token_env", "tls", "hosts", "notify", "output",
                                                 "max_age_days", "notify_window_s", "request_timeout_ms"};
        for (auto it = n.begin(); it != n.end(); ++it) {
            std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
            if (!known.count(key)) {
                std::string list;
                for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
                error(it->first, "unknown key \"" + key + "\" in fleet", "known keys: " + list);
            }
        }
        urls(n["url"]);
        if (YAML::Node h = n["host"]; !h.IsDefined()) {
            error(n, "fleet has no host", "host: NAME (this machine's name in the fleet, e.g. laptop)");
        } else if (text(h, "host", m_out.host) && !valid_fleet_host(m_out.host)) {
            error(h, "fleet host \"" + m_out.host + "\" is not a valid name", "letters, digits, - and _ only (it is a NATS subject token)");
        }
        if (YAML::Node s = n["stream"]; s.IsDefined() && text(s, "stream", m_out.stream) && !valid_fleet_host(m_out.stream))
            error(s, "fleet stream \"" + m_out.stream + "\" is not a valid stream name", "letters, digits, - and _ only");
        secret_file(n["credentials"], "credentials", m_out.credentials);
        if (YAML::Node u = n["user"]; u.IsDefined()) text(u, "user", m_out.user);
        env_secret(n["password_env"], "password_env", m_out.password);
        env_secret(n["token_env"], "token_env", m_out.token);
        if (!m_out.password.empty() && m_out.user.empty())
            error(n["password_env"], "fleet password_env without user", "user: NAME");
        tls(n["tls"]);
        hosts(n["hosts"]);
        flag(n["notify"], "notify", m_out.notify);
        flag(n["output"], "output", m_out.output);
        int64_t days = m_out.max_age_s / 86400;
        number(n["max_age_days"], "max_age_days", days, 1, 3650);
        m_out.max_age_s = days * 86400;
        number(n["notify_window_s"], "notify_window_s", m_out.notify_window_s, 1, 86400 * 30);
        int64_t timeout = m_out.request_timeout_ms;
        number(n["request_timeout_ms"], "request_timeout_ms", timeout, 100, 60000);
        m_out.request_timeout_ms = static_cast<long>(timeout);
        if (!m_out.host.empty() && !m_out.hosts.empty() && !m_out.knows_host(m_out.host))
            error(n["hosts"], "fleet hosts does not name this host, " + m_out.host, "add " + m_out.host + " to hosts");
    }

    std::vector<ConfigError> errors;

private:
    void error(const YAML::Node& n, std::string message, std::string hint = {}) {
        errors.push_back(config_error_at(m_file, n, std::move(message), std::move(hint)));
    }

    bool text(const YAML::Node& n, const char* key, std::string& out) {
        if (!n.IsScalar() || n.Scalar().empty()) {
            error(n, std::string("fleet ") + key + " must be a non-empty string");
            return false;
        }
        out = n.Scalar();
        return true;
    }

    void urls(const YAML::Node& n) {
        if (!n.IsDefined()) return error(n, "fleet has no url", "url: nats://127.0.0.1:4222");
        std::vector<YAML::Node> items;
        if (n.IsSequence()) for (const auto& i : n) items.push_back(i);
        else items.push_back(n);
        for (const auto& i : items) {
            std::string u;
            if (!text(i, "url", u)) continue;
            if (u.rfind("nats://", 0) != 0 && u.rfind("tls://", 0) != 0)
                error(i, "fleet url \"" + u + "\" is not a NATS url", "nats://HOST:PORT or tls://HOST:PORT");
            else if (u.find('@') != std::string::npos)
                error(i, "fleet url carries credentials", "put them in credentials, password_env or token_env, never in the url");
            else
                m_out.urls.push_back(u);
        }
        if (items.empty()) error(n, "fleet url is an empty list");
    }

    std::string path_of(const std::string& p) {
        std::string out = p;
        if (out.rfind("~/", 0) == 0)
            if (const char* home = std::getenv("HOME")) out = std::string(home) + out.substr(1);
        if (!out.empty() && out[0] != '/') out = (std::filesystem::path(m_file).parent_path() / out).lexically_normal().string();
        return out;
    }

    // A file holding a secret: yours, and readable by nobody else.
    void secret_file(const YAML::Node& n, const char* key, std::string& out) {
        if (!n.IsDefined()) return;
        std::string p;
        if (!text(n, key, p)) return;
        p = path_of(p);
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0)
            return error(n, std::string("fleet ") + key + " file " + p + ": " + std::strerror(errno), "create it, then chmod 600 " + p);
        if (!S_ISREG(st.st_mode)) return error(n, std::string("fleet ") + key + " file " + p + " is not a regular file");
        if (st.st_uid != ::geteuid())
            return error(n, std::string("fleet ") + key + " file " + p + " belongs to uid " + std::to_string(st.st_uid) + ", not to you",
                         "chown $(id -u) " + p);
        if (st.st_mode & 077) {
            char mode[8];
            std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
            return error(n, std::string("fleet ") + key + " file " + p + " has mode " + mode + ": others may read it", "chmod 600 " + p);
        }
        out = p;
    }

    // A plain file that is no secret (a CA certificate, a client certificate).
    void readable_file(const YAML::Node& n, const char* key, std::string& out) {
        if (!n.IsDefined()) return;
        std::string p;
        if (!text(n, key, p)) return;
        p = path_of(p);
        if (::access(p.c_str(), R_OK) != 0)
            return error(n, std::string("fleet tls ") + key + " file " + p + ": " + std::strerror(errno));
        out = p;
    }

    void env_secret(const YAML::Node& n, const char* key, std::string& out) {
        if (!n.IsDefined()) return;
        std::string var;
        if (!text(n, key, var)) return;
        const char* v = std::getenv(var.c_str());
        if (!v || !*v)
            return error(n, "environment variable " + var + " (fleet " + key + ") is not set", "export " + var + " before starting tetherd");
        out = v;
        m_out.secret_source = "$" + var;
    }

    void tls(const YAML::Node& n) {
        if (!n.IsDefined() || n.IsNull()) return;
        if (!n.IsMap()) return error(n, "fleet tls must be a mapping", "tls: {ca: PATH, cert: PATH, key: PATH}");
        for (auto it = n.begin(); it != n.end(); ++it) {
            std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
            if (key != "ca" && key != "cert" && key != "key") error(it->first, "unknown key \"" + key + "\" in fleet tls", "known keys: ca, cert, key");
        }
        readable_file(n["ca"], "ca", m_out.tls_ca);
        readable_file(n["cert"], "cert", m_out.tls_cert);
        secret_file(n["key"], "key", m_out.tls_key);
        if (m_out.tls_cert.empty() != m_out.tls_key.empty())
            error(n, "fleet tls needs both cert and key for a client certificate", "cert: PATH, key: PATH");
    }

    void hosts(const YAML::Node& n) {
        if (!n.IsDefined() || n.IsNull()) return;
        if (!n.IsSequence()) return error(n, "fleet hosts must be a list of host names", "hosts: [laptop, devbox]");
        for (const auto& h : n) {
            std::string name;
            if (!text(h, "hosts entry", name)) continue;
            if (!valid_fleet_host(name)) error(h, "fleet host \"" + name + "\" is not a valid name", "letters, digits, - and _ only");
            else m_out.hosts.push_back(name);
        }
    }

    void flag(const YAML::Node& n, const char* key, bool& out) {
        if (!n.IsDefined()) return;
        bool v = false;
        if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) return error(n, std::string("fleet ") + key + " must be true or false");
        out = v;
    }

    void number(const YAML::Node& n, const char* key, int64_t& out, int64_t lo, int64_t hi) {
        if (!n.IsDefined()) return;
        long long v = 0;
        if (!n.IsScalar() || !YAML::convert<long long>::decode(n, v))
            return error(n, std::string("fleet ") + key + " must be a whole number", "e.g. " + std::to_string(out));
        if (v < lo || v > hi)
            return error(n, std::string("fleet ") + key + " is " + std::to_string(v) + ", out of range",
                         "allowed: " + std::to_string(lo) + " to " + std::to_string(hi));
        out = v;
    }

    const std::string& m_file;
    FleetConfig& m_out;
};

}  // namespace

bool valid_fleet_host(const std::string& host) {
    return !host.empty() && host.size() <= 64 &&
           std::all_of(host.begin(), host.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; });
}

bool FleetConfig::knows_host(const std::string& h) const {
    return hosts.empty() || std::find(hosts.begin(), hosts.end(), h) != hosts.end();
}

std::vector<ConfigError> parse_fleet(const YAML::Node& root, const std::string& file, FleetConfig& out) {
    YAML::Node n = root["fleet"];
    if (!n.IsDefined() || n.IsNull()) return {};
    FleetParser p(file, out);
    try {
        p.parse(n);
    } catch (const std::exception& e) {
        p.errors.push_back({file, 0, 0, std::string("cannot read the fleet section: ") + e.what(), ""});
    }
    if (!p.errors.empty()) out = FleetConfig{};
    return std::move(p.errors);
}

}  // namespace tether
