// YAML config loading with collected, located errors. yaml-cpp throws; every throw is
// caught in this file.
#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "config/config_error_at.h"
#include "config/fleet_config.h"
#include "config/rule_config.h"

namespace tether {

namespace {

ConfigError at(const std::string& file, const YAML::Node& node, std::string message, std::string hint = {}) {
    return config_error_at(file, node, std::move(message), std::move(hint));
}

template <typename T>
void read_number(const std::string& file, const YAML::Node& map, const char* key, T& out, T lo, T hi,
                 std::vector<ConfigError>& errors) {
    YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return;
    long long v = 0;
    if (!n.IsScalar() || !YAML::convert<long long>::decode(n, v)) {
        errors.push_back(at(file, n, std::string(key) + " must be a whole number", "e.g. " + std::to_string(out)));
        return;
    }
    if (v < static_cast<long long>(lo) || v > static_cast<long long>(hi)) {
        errors.push_back(at(file, n, std::string(key) + " is " + std::to_string(v) + ", out of range",
                            "allowed: " + std::to_string(lo) + " to " + std::to_string(hi)));
        return;
    }
    out = static_cast<T>(v);
}

// Reports keys this build does not know: a typo must not be silently ignored.
void check_keys(const std::string& file, const YAML::Node& map, const std::set<std::string>& known, const std::string& where,
                std::vector<ConfigError>& errors) {
    for (auto it = map.begin(); it != map.end(); ++it) {
        std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
        if (!known.count(key)) {
            std::string list;
            for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
            errors.push_back(at(file, it->first, "unknown key \"" + key + "\"" + (where.empty() ? "" : " in " + where),
                                "known keys: " + list));
        }
    }
}

YAML::Node section(const std::string& file, const YAML::Node& root, const char* name, std::vector<ConfigError>& errors) {
    YAML::Node n = root[name];
    // A missing key yields a "zombie" node on which IsMap() throws: hand back a null one.
    if (!n.IsDefined()) return YAML::Node();
    if (!n.IsNull() && !n.IsMap()) {
        errors.push_back(at(file, n, std::string(name) + " must be a mapping", std::string(name) + ":\n  key: value"));
        return YAML::Node();
    }
    return n;
}

// The whole file, if it is one and not larger than a configuration can be; the error
// otherwise (message empty when all is well).
ConfigError read_config_text(const std::string& path, std::string& text) {
    std::ifstream in(path, std::ios::binary);
    std::error_code ec;
    if (!in || std::filesystem::is_directory(path, ec))
        return {path, 0, 0, "cannot read the file", "check that it exists and is readable"};
    in.seekg(0, std::ios::end);
    auto size = static_cast<std::streamoff>(in.tellg());
    if (size > static_cast<std::streamoff>(k_max_config_bytes))
        return {path, 0, 0, "the file is " + std::to_string(size) + " bytes, more than a configuration may be (" +
                                std::to_string(k_max_config_bytes) + ")",
                "is this the right file?"};
    in.seekg(0);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return {};
}

}  // namespace

std::string ConfigError::to_string() const {
    std::string s = file;
    if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
    s += ": " + message;
    if (!hint.empty()) s += " (" + hint + ")";
    return s;
}

std::optional<unsigned char> parse_detach_key(const std::string& spec) {
    std::string key;
    if (spec.size() == 2 && spec[0] == '^') key = spec.substr(1);
    else if (spec.size() == 3 && (spec.substr(0, 2) == "C-" || spec.substr(0, 2) == "c-")) key = spec.substr(2);
    else if (spec.size() == 6 && spec.substr(0, 5) == "ctrl-") key = spec.substr(5);
    else return std::nullopt;
    unsigned char c = static_cast<unsigned char>(::toupper(static_cast<unsigned char>(key[0])));
    if (c < '@' || c > '_') return std::nullopt;
    return static_cast<unsigned char>(c & 0x1f);
}

namespace {

// plugin_path: a list of directories.
void read_plugin_path(const std::string& path, const YAML::Node& root, Config& out, std::vector<ConfigError>& errors) {
    YAML::Node pp = root["plugin_path"];
    if (!pp.IsDefined() || pp.IsNull()) return;
    if (!pp.IsSequence()) {
        errors.push_back(at(path, pp, "plugin_path must be a list of directories", "plugin_path: [~/my-plugins]"));
        return;
    }
    for (const auto& dir : pp) {
        if (!dir.IsScalar()) errors.push_back(at(path, dir, "plugin_path entries must be directory names"));
        else out.plugin_path.push_back(dir.Scalar());
    }
}

// ui.terminal: a command line as one string or a list of words.
void read_ui(const std::string& path, const YAML::Node& u, Config& out, std::vector<ConfigError>& errors) {
    check_keys(path, u, {"terminal"}, "ui", errors);
    YAML::Node t = u["terminal"];
    if (!t.IsDefined()) return;
    std::vector<std::string> argv;
    if (t.IsScalar()) {
        std::istringstream words(t.Scalar());
        for (std::string w; words >> w;) argv.push_back(w);
    } else if (t.IsSequence()) {
        for (const auto& w : t)
            if (w.IsScalar()) argv.push_back(w.Scalar());
    }
    if (argv.empty())
        errors.push_back(at(path, t, "ui.terminal must name a terminal emulator command",
                            "terminal: \"xterm -e\" (tether attach ID is appended)"));
    else
        out.ui_terminal = argv;
}

void read_attach(const std::string& path, const YAML::Node& a, Config& out, std::vector<ConfigError>& errors) {
    check_keys(path, a, {"detach_key"}, "attach", errors);
    YAML::Node k = a["detach_key"];
    if (!k.IsDefined()) return;
    if (!k.IsScalar() || !parse_detach_key(k.Scalar()))
        errors.push_back(at(path, k, "detach_key is not a control key", "write ^X, e.g. \"^\\\\\" or \"^]\""));
    else
        out.detach_key = k.Scalar();
}

// The keys of a parsed top-level mapping, each section by its own reader.
void read_sections(const std::string& path, const YAML::Node& root, Config& out, std::vector<ConfigError>& errors) {
    check_keys(path, root, {"daemon", "sessions", "attach", "hooks", "plugin_path", "notifiers", "quiet_hours", "rules", "ui", "retention", "fleet"}, "", errors);
    read_plugin_path(path, root, out, errors);
    auto rules = std::make_shared<RuleConfig>();
    for (auto& e : parse_notifiers_and_rules(root, path, *rules)) errors.push_back(std::move(e));
    out.rules = rules;
    auto fleet = std::make_shared<FleetConfig>();
    for (auto& e : parse_fleet(root, path, *fleet)) errors.push_back(std::move(e));
    out.fleet = fleet;
    if (YAML::Node h = section(path, root, "hooks", errors); h.IsMap()) {
        check_keys(path, h, {"permission_wait_s"}, "hooks", errors);
        read_number(path, h, "permission_wait_s", out.permission_wait_s, 0L, 86400L, errors);
    }
    if (YAML::Node d = section(path, root, "daemon", errors); d.IsMap()) {
        check_keys(path, d, {"flush_ms"}, "daemon", errors);
        read_number(path, d, "flush_ms", out.flush_ms, 0L, 1000L, errors);
    }
    if (YAML::Node s = section(path, root, "sessions", errors); s.IsMap()) {
        check_keys(path, s, {"history_lines", "client_buffer_kib"}, "sessions", errors);
        read_number(path, s, "history_lines", out.history_lines, size_t{0}, size_t{10'000'000}, errors);
        read_number(path, s, "client_buffer_kib", out.client_buffer_kib, size_t{64}, size_t{1 << 20}, errors);
    }
    if (YAML::Node u = section(path, root, "ui", errors); u.IsMap()) read_ui(path, u, out, errors);
    if (YAML::Node r = section(path, root, "retention", errors); r.IsMap()) {
        check_keys(path, r, {"max_age_days", "max_total_mib"}, "retention", errors);
        read_number(path, r, "max_age_days", out.retention_max_age_days, 0L, 100000L, errors);
        read_number(path, r, "max_total_mib", out.retention_max_total_mib, 0L, 1L << 30, errors);
    }
    if (YAML::Node a = section(path, root, "attach", errors); a.IsMap()) read_attach(path, a, out, errors);
}

}  // namespace

std::vector<ConfigError> check_config(const std::string& path, Config& out) {
    std::vector<ConfigError> errors;
    out.path = path;
    out.rules = std::make_shared<RuleConfig>();
    out.fleet = std::make_shared<FleetConfig>();
    YAML::Node root;
    std::string text;
    if (auto read = read_config_text(path, text); !read.message.empty()) {
        errors.push_back(read);
        return errors;
    }
    try {
        root = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
        errors.push_back({path, e.mark.line + 1, e.mark.column + 1, "YAML syntax error: " + e.msg, ""});
        return errors;
    } catch (const std::exception& e) {
        errors.push_back({path, 0, 0, std::string("cannot parse: ") + e.what(), ""});
        return errors;
    }
    if (root.IsNull()) return errors;  // an empty file means the defaults
    if (!root.IsMap()) {
        errors.push_back(at(path, root, "the top level must be a mapping", "see config.example.yaml"));
        return errors;
    }
    try {
        read_sections(path, root, out, errors);
    } catch (const std::exception& e) {
        errors.push_back({path, 0, 0, std::string("cannot read the configuration: ") + e.what(), ""});
    }
    return errors;
}

Result<Config> load_config(const std::string& path) {
    Config c;
    c.rules = std::make_shared<RuleConfig>();
    c.fleet = std::make_shared<FleetConfig>();
    if (path.empty()) return c;
    auto errors = check_config(path, c);
    if (errors.empty()) return c;
    std::string all = "invalid configuration (" + std::to_string(errors.size()) + " error" + (errors.size() > 1 ? "s" : "") + "):";
    for (const auto& e : errors) all += "\n  " + e.to_string();
    return Error{all};
}

}  // namespace tether
