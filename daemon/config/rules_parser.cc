// The notifiers, quiet_hours and rules keys of config.yaml into RuleConfig. yaml-cpp throws;
// every throw is caught in this file. Time zones are resolved here (Howard Hinnant's
// date/tz over the system's /usr/share/zoneinfo), so evaluation never fails on a name.
#include "config/rule_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <date/tz.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include "config/config_error_at.h"
#include "base/text.h"
#include "state/agent_state.h"

namespace tether {

namespace {

const std::vector<std::string> k_states = {
    agent_state::starting, agent_state::running, agent_state::needs_permission,
    agent_state::needs_answer, agent_state::idle, agent_state::exited,
};
constexpr size_t k_max_secret_bytes = 64 * 1024;

const date::time_zone* find_zone(const std::string& name) {
    try {
        return date::locate_zone(name);
    } catch (const std::exception&) {
        return nullptr;
    }
}

// $TZ, else /etc/localtime, else UTC.
const date::time_zone* local_zone() {
    if (const char* tz = std::getenv("TZ"); tz && *tz)
        if (auto* z = find_zone(tz[0] == ':' ? tz + 1 : tz)) return z;
    try {
        return date::current_zone();
    } catch (const std::exception&) {
    }
    return find_zone("UTC");
}

class Parser {
public:
    Parser(const std::string& file, RuleConfig& out) : m_file(file), m_out(out) {}

    std::vector<ConfigError> errors;

    void error(const YAML::Node& n, std::string message, std::string hint = {}) {
        errors.push_back(config_error_at(m_file, n, std::move(message), std::move(hint)));
    }

    void parse(const YAML::Node& root) {
        // reset(), not operator=: assigning to a bound yaml-cpp Node overwrites the
        // node it refers to, inside the document.
        YAML::Node notifiers, quiet, rules;
        for (auto it = root.begin(); it != root.end(); ++it) {
            std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
            if (key == "notifiers") notifiers.reset(it->second);
            if (key == "quiet_hours") quiet.reset(it->second);
            if (key == "rules") rules.reset(it->second);
        }
        // Notifiers first: rules refer to them wherever they appear in the file.
        parse_notifiers(notifiers);
        parse_quiet_hours(quiet);
        parse_rules(rules);
    }

private:
    const std::string& m_file;
    RuleConfig& m_out;

    static std::string key_of(const YAML::const_iterator& it) {
        return it->first.IsScalar() ? it->first.Scalar() : "?";
    }

    void unknown_key(const YAML::Node& key_node, const std::string& key, const std::string& where,
                     const std::vector<std::string>& known) {
        error(key_node, "unknown key \"" + key + "\" in " + where, "known keys: " + join(known));
    }

    bool scalar(const YAML::Node& n, const std::string& what, std::string& out) {
        if (!n.IsScalar()) {
            error(n, what + " must be a string", what + ": value");
            return false;
        }
        out = n.Scalar();
        return true;
    }

    // A string or a list of strings; null is an empty list.
    bool strings(const YAML::Node& n, const std::string& what, std::vector<std::string>& out) {
        out.clear();
        if (n.IsNull()) return true;
        if (n.IsScalar()) {
            out.push_back(n.Scalar());
            return true;
        }
        if (n.IsSequence()) {
            bool ok = true;
            for (const auto& item : n) {
                if (item.IsScalar()) {
                    out.push_back(item.Scalar());
                } else {
                    error(item, what + " items must be strings", what + ": [a, b]");
                    ok = false;
                }
            }
            return ok;
        }
        error(n, what + " must be a string or a list of strings", what + ": [a, b]");
        return false;
    }

    bool boolean(const YAML::Node& n, const std::string& what, bool& out) {
        if (!n.IsScalar() || !YAML::convert<bool>::decode(n, out)) {
            error(n, what + " must be true or false", what + ": false");
            return false;
        }
        return true;
    }

    bool duration(const YAML::Node& n, const std::string& what, int64_t& out, bool positive = false) {
        auto d = n.IsScalar() ? parse_duration_us(n.Scalar()) : std::nullopt;
        if (!d) {
            error(n, what + (n.IsScalar() ? " \"" + n.Scalar() + "\"" : std::string()) + " is not a duration",
                  "a number and a unit: 30s, 2m, 1h30m, 500ms, 1d");
            return false;
        }
        if (positive && *d <= 0) {
            error(n, what + " must be longer than zero", "e.g. 5m");
            return false;
        }
        out = *d;
        return true;
    }

    void states(const YAML::Node& n, const std::string& what, std::vector<std::string>& out) {
        if (!strings(n, what, out)) return;
        for (size_t i = 0; i < out.size(); ++i)
            if (!contains(k_states, out[i]))
                error(n.IsSequence() ? n[i] : n, "unknown state \"" + out[i] + "\" in " + what, "states: " + join(k_states));
    }

    void notifier_refs(const YAML::Node& n, const std::string& what, std::vector<std::string>& out) {
        if (!strings(n, what, out)) return;
        size_t i = 0;
        for (const auto& name : out) {
            if (!m_out.notifiers.count(name)) {
                std::vector<std::string> known;
                for (const auto& [k, v] : m_out.notifiers) known.push_back(k);
                error(n.IsSequence() ? n[i] : n, "unknown notifier \"" + name + "\" in " + what,
                      known.empty() ? "define it under notifiers:" : "notifiers: " + join(known));
            }
            ++i;
        }
    }

    // ---- notifiers ----

    void parse_notifiers(const YAML::Node& n) {
        if (!n.IsDefined() || n.IsNull()) return;
        if (!n.IsMap()) {
            error(n, "notifiers must be a mapping of names to notifiers", "notifiers:\n  desktop: {plugin: desktop}");
            return;
        }
        for (auto it = n.begin(); it != n.end(); ++it) {
            Notifier nt;
            nt.name = key_of(it);
            // Known even when broken, so that rules naming it get no second error.
            parse_notifier(it->second, nt);
            m_out.notifiers[nt.name] = std::move(nt);
        }
    }

    void parse_notifier(const YAML::Node& n, Notifier& nt) {
        const std::string where = "notifier \"" + nt.name + "\"";
        if (!n.IsMap()) {
            error(n, where + " must be a mapping", nt.name + ": {plugin: desktop}");
            return;
        }
        bool has_plugin = false;
        for (auto it = n.begin(); it != n.end(); ++it) {
            std::string key = key_of(it);
            if (key == "plugin") {
                has_plugin = scalar(it->second, "plugin", nt.plugin);
                if (has_plugin && nt.plugin.empty()) error(it->second, "plugin of " + where + " is empty", "plugin: desktop");
            } else if (key == "options") {
                parse_options(it->second, nt);
            } else {
                unknown_key(it->first, key, where, {"plugin", "options"});
            }
        }
        if (!has_plugin) error(n, where + " has no plugin", "plugin: desktop (or sound, webhook, slack, ...)");
    }

    void parse_options(const YAML::Node& n, Notifier& nt) {
        if (n.IsNull()) return;
        if (!n.IsMap()) {
            error(n, "options of notifier \"" + nt.name + "\" must be a mapping", "options: {key: value}");
            return;
        }
        for (auto it = n.begin(); it != n.end(); ++it) {
            NotifierOption o;
            o.key = key_of(it);
            const YAML::Node v = it->second;  // a copy: it-> points into a temporary
            if (v.IsScalar()) {
                if (!expand_env(v, v.Scalar(), o)) continue;
            } else if (v.IsMap() && v.size() == 1 && v.begin()->first.IsScalar() && v.begin()->first.Scalar() == "file") {
                if (!read_secret_file(v.begin()->second, o)) continue;
            } else if (v.IsSequence()) {
                if (!join_list(v, o)) continue;
            } else {
                error(v, "option \"" + o.key + "\" must be a string, a number, a list of them, \"${VAR}\" or {file: PATH}",
                      "secrets: token: ${MY_TOKEN} or token: {file: ~/.config/tether/token}");
                continue;
            }
            nt.options.push_back(std::move(o));
        }
    }

    // A list of plain values (allow_users: [U1, U2]) reaches the plugin as "U1,U2": options
    // stay flat strings, so no plugin needs a YAML parser.
    bool join_list(const YAML::Node& n, NotifierOption& o) {
        std::string joined, sources;
        bool ok = true;
        for (size_t i = 0; i < n.size(); ++i) {
            NotifierOption item;
            item.key = o.key;
            if (!n[i].IsScalar()) {
                error(n[i], "option \"" + o.key + "\": a list holds plain values only", o.key + ": [U0123ABCD, U0456EFGH]");
                ok = false;
                continue;
            }
            if (!expand_env(n[i], n[i].Scalar(), item)) {
                ok = false;
                continue;
            }
            if (item.value.find(',') != std::string::npos || item.value.empty()) {
                error(n[i], "option \"" + o.key + "\": a list item is empty or holds a comma", "one value per item");
                ok = false;
                continue;
            }
            joined += (joined.empty() ? "" : ",") + item.value;
            o.secret = o.secret || item.secret;
            if (!item.source.empty()) sources += (sources.empty() ? "" : " ") + item.source;
        }
        o.value = std::move(joined);
        o.source = std::move(sources);
        return ok;
    }

    // "${NAME}" anywhere in the value is replaced by the variable; its value is a secret.
    bool expand_env(const YAML::Node& node, const std::string& in, NotifierOption& o) {
        std::string out;
        std::vector<std::string> vars;
        bool ok = true;
        size_t pos = 0;
        while (true) {
            size_t open = in.find("${", pos);
            if (open == std::string::npos) break;
            out += in.substr(pos, open - pos);
            size_t close = in.find('}', open + 2);
            std::string name = close == std::string::npos ? "" : in.substr(open + 2, close - open - 2);
            // ${NAME:-fallback}, as in the shell: the fallback when NAME is unset or empty.
            std::optional<std::string> fallback;
            if (size_t sep = name.find(":-"); sep != std::string::npos) {
                fallback = name.substr(sep + 2);
                name.resize(sep);
            }
            bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                         std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
            if (!valid) {
                error(node, "option \"" + o.key + "\" has a malformed ${...} reference", "write ${NAME} or ${NAME:-fallback}, NAME made of letters, digits and _");
                return false;
            }
            const char* value = std::getenv(name.c_str());
            if (fallback && (!value || !*value)) {
                out += *fallback;
            } else if (!value) {
                error(node, "environment variable " + name + " (option \"" + o.key + "\") is not set",
                      "export " + name + " before starting tetherd, give a fallback (${" + name + ":-value}), or use {file: PATH}");
                ok = false;
            } else {
                out += value;
            }
            vars.push_back("$" + name);
            pos = close + 1;
        }
        out += in.substr(pos);
        o.value = std::move(out);
        o.secret = !vars.empty();
        o.source = join(vars, " ");
        return ok;
    }

    bool read_secret_file(const YAML::Node& n, NotifierOption& o) {
        std::string path;
        if (!scalar(n, "file", path)) return false;
        path = home_expanded(path);
        if (!path.empty() && path[0] != '/')
            path = (std::filesystem::path(m_file).parent_path() / path).lexically_normal().string();
        o.secret = true;
        o.source = "file " + path;
        // O_NONBLOCK: a FIFO must not hang the loader; it is refused below anyway.
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
            error(n, "cannot read secret file " + path + ": " + std::strerror(errno), "create it, then chmod 600 " + path);
            return false;
        }
        struct FdCloser {
            int fd;
            ~FdCloser() { ::close(fd); }
        } closer{fd};
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            error(n, "secret file " + path + " is not a regular file", "put the secret alone in a file, then chmod 600 it");
            return false;
        }
        if (st.st_uid != ::geteuid()) {
            error(n, "secret file " + path + " belongs to uid " + std::to_string(st.st_uid) + ", not to you (uid " +
                         std::to_string(::geteuid()) + ")", "chown $(id -u) " + path);
            return false;
        }
        if (st.st_mode & 077) {
            char mode[8];
            std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
            error(n, "secret file " + path + " has mode " + mode + ": others may read it", "chmod 600 " + path);
            return false;
        }
        std::string data;
        char buf[4096];
        ssize_t r;
        while ((r = ::read(fd, buf, sizeof buf)) > 0 && data.size() <= k_max_secret_bytes) data.append(buf, r);
        if (r < 0) {
            error(n, "cannot read secret file " + path + ": " + std::strerror(errno), "check that you can read it");
            return false;
        }
        if (data.size() > k_max_secret_bytes) {
            error(n, "secret file " + path + " is larger than 64 KiB", "the file must hold the secret alone");
            return false;
        }
        while (!data.empty() && (data.back() == '\n' || data.back() == '\r')) data.pop_back();
        if (data.empty()) {
            error(n, "secret file " + path + " is empty", "write the secret into it");
            return false;
        }
        o.value = std::move(data);
        return true;
    }

    // ---- time windows ----

    bool day_index(const std::string& s, int& out) {
        std::string l;
        for (char c : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        static const char* const full[] = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
        for (int i = 0; i < 7; ++i)
            if (l == k_day_names[i] || l == full[i]) return out = i, true;
        return false;
    }

    void days(const YAML::Node& n, unsigned& mask) {
        std::vector<std::string> items;
        if (!strings(n, "days", items)) return;
        mask = 0;
        for (size_t i = 0; i < items.size(); ++i) {
            const std::string& s = items[i];
            size_t dash = s.find('-');
            int a = 0, b = 0;
            bool ok = dash == std::string::npos ? day_index(s, a) && day_index(s, b)
                                                : day_index(s.substr(0, dash), a) && day_index(s.substr(dash + 1), b);
            if (!ok) {
                error(n.IsSequence() ? n[i] : n, "\"" + s + "\" is not a day or a range of days",
                      "mon, tue, wed, thu, fri, sat, sun, or a range like mon-fri");
                continue;
            }
            for (int d = a;; d = (d + 1) % 7) {  // a range may wrap: fri-mon
                mask |= 1u << d;
                if (d == b) break;
            }
        }
        if (mask == 0 && items.empty()) error(n, "days is empty", "leave it out to mean every day");
    }

    static bool clock_time(const std::string& s, int& minutes) {
        unsigned h = 0, m = 0;
        int len = 0;
        if (std::sscanf(s.c_str(), "%2u:%2u%n", &h, &m, &len) != 2 || len != static_cast<int>(s.size()) || s.size() < 4)
            return false;
        if (m > 59 || h > 24 || (h == 24 && m != 0)) return false;
        minutes = static_cast<int>(h * 60 + m);
        return true;
    }

    void hours(const YAML::Node& n, TimeWindow& w) {
        std::string s;
        if (!scalar(n, "hours", s)) return;
        std::string t;
        for (char c : s)
            if (c != ' ') t += c;
        size_t dash = t.find('-');
        int a = 0, b = 0;
        if (dash == std::string::npos || !clock_time(t.substr(0, dash), a) || !clock_time(t.substr(dash + 1), b) ||
            a == 24 * 60) {
            error(n, "hours \"" + s + "\" is not a range of times", "HH:MM-HH:MM, e.g. \"22:00-07:00\" (may cross midnight)");
            return;
        }
        if (a == b) {
            error(n, "hours \"" + s + "\" is an empty range", "for the whole day write \"00:00-24:00\" or leave hours out");
            return;
        }
        if (b == 0) b = 24 * 60;  // "22:00-00:00" ends at midnight, without crossing
        w.start_min = a;
        w.end_min = b;
    }

    void timezone(const YAML::Node& n, TimeWindow& w) {
        if (!scalar(n, "timezone", w.timezone)) return;
        w.zone = find_zone(w.timezone);
        if (!w.zone)
            error(n, "unknown time zone \"" + w.timezone + "\"",
                  "an IANA name like Europe/Paris or America/New_York (see /usr/share/zoneinfo; package tzdata)");
    }

    void finish_window(const YAML::Node& at, TimeWindow& w) {
        if (!w.zone && w.timezone.empty()) {
            w.zone = local_zone();
            if (!w.zone) error(at, "the local time zone is unknown and no time zone database was found", "install tzdata");
        }
    }

    // ---- quiet hours ----

    void parse_quiet_hours(const YAML::Node& n) {
        if (!n.IsDefined() || n.IsNull()) return;
        if (n.IsMap()) return parse_quiet_window(n);
        if (n.IsSequence()) {
            for (const auto& item : n) parse_quiet_window(item);
            return;
        }
        error(n, "quiet_hours must be a mapping or a list of them", "quiet_hours: {hours: \"22:00-07:00\"}");
    }

    void parse_quiet_window(const YAML::Node& n) {
        if (!n.IsMap()) {
            error(n, "quiet_hours entries must be mappings", "- {hours: \"22:00-07:00\", days: [mon-fri]}");
            return;
        }
        QuietHours q;
        bool has_hours = false;
        for (auto it = n.begin(); it != n.end(); ++it) {
            std::string key = key_of(it);
            if (key == "days") {
                days(it->second, q.window.days);
            } else if (key == "hours") {
                hours(it->second, q.window);
                has_hours = true;
            } else if (key == "timezone") {
                timezone(it->second, q.window);
            } else if (key == "break_through") {
                states(it->second, "break_through", q.break_through);
            } else {
                unknown_key(it->first, key, "quiet_hours", {"days", "hours", "timezone", "break_through"});
            }
        }
        if (!has_hours) error(n, "quiet_hours has no hours", "hours: \"22:00-07:00\"");
        finish_window(n, q.window);
        m_out.quiet_hours.push_back(std::move(q));
    }

    // ---- rules ----

    void parse_rules(const YAML::Node& n) {
        if (!n.IsDefined() || n.IsNull()) return;
        if (!n.IsSequence()) {
            error(n, "rules must be a list", "rules:\n  - name: permission\n    when: {to: needs_permission}\n    notify: [desktop]");
            return;
        }
        std::set<std::string> names;
        for (const auto& item : n) {
            Rule r;
            if (!parse_rule(item, r)) continue;
            if (!names.insert(r.name).second) error(item, "a second rule is named \"" + r.name + "\"", "rule names must be unique");
            m_out.rules.push_back(std::move(r));
        }
    }

    bool parse_rule(const YAML::Node& n, Rule& r) {
        if (!n.IsMap()) {
            error(n, "each rule must be a mapping", "- name: permission\n  when: {to: needs_permission}\n  notify: [desktop]");
            return false;
        }
        r.line = n.Mark().line + 1;
        YAML::Node answer_node, name_node, options_node;
        bool has_answer = false;
        std::string where = "the rule at line " + std::to_string(r.line);
        for (auto it = n.begin(); it != n.end(); ++it) {
            if (key_of(it) == "name" && scalar(it->second, "name", r.name)) {
                name_node.reset(it->second);
                if (r.name.empty()) error(it->second, "rule name is empty", "name: permission");
                where = "rule \"" + r.name + "\"";
            }
        }
        if (!name_node.IsDefined() || name_node.IsNull()) error(n, where + " has no name", "name: permission");
        for (auto it = n.begin(); it != n.end(); ++it) {
            std::string key = key_of(it);
            const YAML::Node v = it->second;  // a copy: it-> points into a temporary
            if (key == "name") {
            } else if (key == "when") {
                parse_when(v, r.when, where);
            } else if (key == "notify") {
                notifier_refs(v, "notify", r.notify);
            } else if (key == "escalate") {
                parse_escalate(v, r, where);
            } else if (key == "answer") {
                answer_node.reset(v);
                has_answer = true;
                parse_answer(v, r);
            } else if (key == "cooldown") {
                duration(v, "cooldown", r.cooldown_us);
            } else if (key == "dedupe") {
                duration(v, "dedupe", r.dedupe_us);
            } else if (key == "suppress_when_attached") {
                boolean(v, "suppress_when_attached", r.suppress_when_attached);
            } else if (key == "options") {
                options_node.reset(v);
            } else {
                unknown_key(it->first, key, where,
                            {"name", "when", "notify", "escalate", "answer", "cooldown", "dedupe", "suppress_when_attached",
                             "options"});
            }
        }
        // After the loop: options name notifiers that notify and escalate list.
        if (options_node.IsDefined()) parse_rule_options(options_node, r, where);
        if (has_answer && !r.answer.empty() &&
            !(r.when.to.size() == 1 && r.when.to[0] == agent_state::needs_permission))
            error(answer_node, "answer in " + where + " needs when.to: needs_permission",
                  "only permission requests can be answered; add to: needs_permission to when");
        if (r.notify.empty() && !r.escalate && !has_answer)
            error(n, where + " does nothing", "give it notify: [NAMES], escalate: or answer:");
        return true;
    }

    void parse_when(const YAML::Node& n, RuleWhen& w, const std::string& where) {
        if (n.IsNull()) return;
        if (!n.IsMap()) {
            error(n, "when in " + where + " must be a mapping", "when: {to: needs_permission}");
            return;
        }
        TimeWindow win;
        bool has_window = false, has_zone = false;
        for (auto it = n.begin(); it != n.end(); ++it) {
            std::string key = key_of(it);
            const YAML::Node v = it->second;  // a copy: it-> points into a temporary
            if (key == "from") {
                states(v, "from", w.from);
            } else if (key == "to") {
                states(v, "to", w.to);
            } else if (key == "session") {
                strings(v, "session", w.session);
            } else if (key == "cwd") {
                if (strings(v, "cwd", w.cwd))
                    for (auto& p : w.cwd) p = home_expanded(p);
            } else if (key == "agent") {
                strings(v, "agent", w.agent);
            } else if (key == "tool") {
                strings(v, "tool", w.tool);
            } else if (key == "tool_input") {
                strings(v, "tool_input", w.tool_input);
            } else if (key == "message") {
                parse_regex(v, w);
            } else if (key == "min_previous") {
                duration(v, "min_previous", w.min_previous_us);
            } else if (key == "days") {
                days(v, win.days);
                has_window = true;
            } else if (key == "hours") {
                hours(v, win);
                has_window = true;
            } else if (key == "timezone") {
                timezone(v, win);
                has_zone = true;
            } else {
                unknown_key(it->first, key, "when of " + where,
                            {"from", "to", "session", "cwd", "agent", "tool", "tool_input", "message", "min_previous",
                             "days", "hours", "timezone"});
            }
        }
        if (has_zone && !has_window) error(n, "timezone in " + where + " without days or hours", "add hours: or days:");
        if (has_window) {
            finish_window(n, win);
            w.window = std::move(win);
        }
    }

    void parse_regex(const YAML::Node& n, RuleWhen& w) {
        if (!scalar(n, "message", w.message_pattern)) return;
        try {
            w.message.emplace(w.message_pattern, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
            error(n, "message is not a valid regular expression: " + std::string(e.what()),
                  "ECMAScript syntax; escape ( ) [ ] { } . * + ? with a backslash to match them literally");
        }
    }

    // options: {NOTIFIER: {key: value}}, for notifiers this rule notifies or escalates to.
    void parse_rule_options(const YAML::Node& n, Rule& r, const std::string& where) {
        const std::string hint = "options: {chime: {file: question.wav, volume: 0.5}}";
        if (n.IsNull()) return;
        if (!n.IsMap()) {
            error(n, "options in " + where + " must be a mapping of notifier names to options", hint);
            return;
        }
        std::vector<std::string> used = r.notify;
        if (r.escalate) used.insert(used.end(), r.escalate->notify.begin(), r.escalate->notify.end());
        for (auto it = n.begin(); it != n.end(); ++it) {
            std::string notifier = key_of(it);
            const YAML::Node v = it->second;  // a copy: it-> points into a temporary
            if (std::find(used.begin(), used.end(), notifier) == used.end()) {
                error(it->first, "options for \"" + notifier + "\" in " + where + ", which does not notify it",
                      used.empty() ? "add it to notify:" : "it notifies: " + join(used));
                continue;
            }
            if (!v.IsMap()) {
                error(v, "options for \"" + notifier + "\" in " + where + " must be a mapping", hint);
                continue;
            }
            auto& out = r.notifier_options[notifier];
            for (auto o = v.begin(); o != v.end(); ++o) {
                if (!o->second.IsScalar()) {
                    error(o->second, "option \"" + key_of(o) + "\" of \"" + notifier + "\" in " + where + " must be a string or a number",
                          hint);
                    continue;
                }
                out[key_of(o)] = o->second.Scalar();
            }
        }
    }

    void parse_escalate(const YAML::Node& n, Rule& r, const std::string& where) {
        if (!n.IsMap()) {
            error(n, "escalate in " + where + " must be a mapping", "escalate: {after: 5m, notify: [phone]}");
            return;
        }
        Escalation e;
        bool has_after = false, has_notify = false;
        for (auto it = n.begin(); it != n.end(); ++it) {
            std::string key = key_of(it);
            if (key == "after") {
                duration(it->second, "escalate.after", e.after_us, true);
                has_after = true;
            } else if (key == "notify") {
                notifier_refs(it->second, "escalate.notify", e.notify);
                has_notify = true;
            } else {
                unknown_key(it->first, key, "escalate of " + where, {"after", "notify"});
            }
        }
        if (!has_after || !has_notify || e.notify.empty())
            error(n, "escalate in " + where + " needs after and notify", "escalate: {after: 5m, notify: [phone]}");
        r.escalate = std::move(e);
    }

    void parse_answer(const YAML::Node& n, Rule& r) {
        const std::string hint = "answer: allow, or answer: {decision: deny, message: \"why\"}";
        YAML::Node decision, message;
        decision.reset(n);
        if (n.IsMap()) {
            decision.reset(YAML::Node());
            for (auto it = n.begin(); it != n.end(); ++it) {
                std::string key = key_of(it);
                if (key == "decision") {
                    decision.reset(it->second);
                } else if (key == "message") {
                    message.reset(it->second);
                } else {
                    unknown_key(it->first, key, "answer", {"decision", "message"});
                }
            }
        }
        if (!decision.IsScalar() || (decision.Scalar() != "allow" && decision.Scalar() != "deny")) {
            error(decision.IsScalar() ? decision : n, "answer must be allow or deny", hint);
            return;
        }
        r.answer = decision.Scalar();
        if (message.IsDefined() && !message.IsNull()) {
            if (r.answer != "deny")
                error(message, "a message only goes with deny", "the agent is told why it was denied; allow takes none");
            else
                scalar(message, "answer.message", r.answer_message);
        }
    }
};

}  // namespace

std::vector<ConfigError> parse_notifiers_and_rules(const YAML::Node& root, const std::string& file, RuleConfig& out) {
    out = RuleConfig{};
    Parser p(file, out);
    if (!root.IsDefined() || !root.IsMap()) return {};  // config.cc reports a bad top level
    try {
        p.parse(root);
    } catch (const std::exception& e) {
        p.errors.push_back({file, 0, 0, std::string("cannot read notifiers and rules: ") + e.what(), ""});
    }
    // In file order, whatever order they were found in; unlocated ones last.
    std::stable_sort(p.errors.begin(), p.errors.end(), [](const ConfigError& a, const ConfigError& b) {
        auto key = [](const ConfigError& e) { return std::pair(e.line ? e.line : INT_MAX, e.column); };
        return key(a) < key(b);
    });
    return std::move(p.errors);
}

}  // namespace tether
