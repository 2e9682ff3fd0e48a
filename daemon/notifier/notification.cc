// The notification's JSON form, both ways.
#include "notifier/notification.h"

#include "base/json_fields.h"

namespace tether {

nlohmann::json notification_json(const Notification& n) {
    nlohmann::json j{{"rule", n.rule},           {"kind", n.kind},
                     {"title", n.title},         {"body", n.body},
                     {"session", n.session},     {"session_name", n.session_name},
                     {"agent", n.agent},         {"from", n.from},
                     {"to", n.to},               {"tool", n.tool},
                     {"tool_input", n.tool_input}, {"message", n.message},
                     {"cwd", n.cwd},             {"time_ms", n.time_ms},
                     {"rule_options", n.options}};
    if (n.permission_request) j["permission_request"] = n.permission_request;
    if (n.escalation) j["escalation"] = true;
    if (!n.host.empty()) j["host"] = n.host;
    if (!n.always.is_null()) j["always"] = n.always;
    if (const auto& u = n.update)
        j["update"] = {{"receipt", u->receipt}, {"decision", u->decision}, {"by", u->by},
                       {"message", u->message}, {"time_ms", u->time_ms}, {"always", u->always}};
    return j;
}

Notification notification_from_json(const nlohmann::json& j) {
    Notification n;
    if (!j.is_object()) return n;
    n.rule = json_text(j, "rule");
    n.kind = json_text(j, "kind");
    n.title = json_text(j, "title");
    n.body = json_text(j, "body");
    n.session = json_int(j, "session");
    n.session_name = json_text(j, "session_name");
    n.agent = json_text(j, "agent");
    n.cwd = json_text(j, "cwd");
    n.from = json_text(j, "from");
    n.to = json_text(j, "to");
    n.tool = json_text(j, "tool");
    if (auto it = j.find("tool_input"); it != j.end()) n.tool_input = *it;
    n.message = json_text(j, "message");
    n.time_ms = json_int(j, "time_ms");
    if (auto it = j.find("rule_options"); it != j.end() && it->is_object())
        for (const auto& [k, v] : it->items())
            if (v.is_string()) n.options[k] = v.get<std::string>();
    n.permission_request = json_int(j, "permission_request");
    if (auto it = j.find("escalation"); it != j.end() && it->is_boolean()) n.escalation = it->get<bool>();
    n.host = json_text(j, "host");
    if (auto it = j.find("always"); it != j.end()) n.always = *it;
    if (auto it = j.find("update"); it != j.end() && it->is_object()) {
        NotificationUpdate u;
        u.receipt = json_text(*it, "receipt");
        u.decision = json_text(*it, "decision");
        u.by = json_text(*it, "by");
        u.message = json_text(*it, "message");
        u.time_ms = json_int(*it, "time_ms");
        if (auto a = it->find("always"); a != it->end() && a->is_boolean()) u.always = a->get<bool>();
        n.update = std::move(u);
    }
    return n;
}

}  // namespace tether
