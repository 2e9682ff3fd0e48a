// The window's contents.
#include "view.h"

#include <imgui.h>

#include <algorithm>
#include <cstdio>

#include "terminal_view.h"

namespace tether::ui {

namespace {

constexpr ImU32 k_accent = IM_COL32(255, 150, 20, 255);
constexpr int64_t k_snooze_us = 15LL * 60 * 1000000;

ImVec4 state_color(const std::string& state) {
    if (state == "running") return ImVec4(0.35f, 0.85f, 0.40f, 1);
    if (state == "needs_permission") return ImVec4(1.00f, 0.45f, 0.30f, 1);
    if (state == "needs_answer") return ImVec4(1.00f, 0.80f, 0.25f, 1);
    if (state == "idle") return ImVec4(0.55f, 0.70f, 0.95f, 1);
    if (state == "starting") return ImVec4(0.60f, 0.90f, 1.00f, 1);
    if (state == "failed") return ImVec4(0.90f, 0.25f, 0.25f, 1);
    return ImVec4(0.55f, 0.55f, 0.55f, 1);
}

struct Recorder {
    Layout* layout;
    const std::string& session;
    bool button(const char* label, const char* action) {
        bool clicked = ImGui::Button(label);
        record(action);
        return clicked;
    }
    void record(const char* action) {  // the last item's rectangle
        if (!layout) return;
        ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax(), w = ImGui::GetMainViewport()->Pos;
        (*layout)[std::string(action) + ":" + session] = {a.x - w.x, a.y - w.y, b.x - a.x, b.y - a.y};
    }
};

void draw_status(const Model& model, const UiState& ui, int64_t now_us) {
    if (!model.connected) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 0.4f, 0.4f, 1));
        ImGui::TextWrapped("%s", model.link_error.empty() ? "connecting to tetherd..." : model.link_error.c_str());
        ImGui::PopStyleColor();
        return;
    }
    size_t live = 0, need = 0;
    for (const auto& [id, s] : model.sessions)
        if (s.live) {
            ++live;
            if (needs_you(s.state) && !ui.is_muted(id, now_us)) ++need;
        }
    for (const auto& [name, h] : model.fleet)
        for (const auto& [id, s] : h.sessions)
            if (!h.self && s.live) {
                ++live;
                need += needs_you(s.state);
            }
    if (need) ImGui::TextColored(ImVec4(1, 0.6f, 0.1f, 1), "%zu session%s, %zu need%s you", live, live == 1 ? "" : "s", need, need == 1 ? "s" : "");
    else ImGui::TextDisabled("%zu session%s, all quiet", live, live == 1 ? "" : "s");
    if (!model.last_error.empty()) ImGui::TextColored(ImVec4(1, 0.5f, 0.3f, 1), "%s", model.last_error.c_str());
}

// After the name: the agent, the state in colour and how long it has been in it.
void draw_state_line(const SessionView& s, int64_t now_us, const char* suffix) {
    ImGui::SameLine();
    ImGui::TextDisabled("%s", s.agent.empty() ? "-" : s.agent.c_str());
    ImGui::SameLine();
    ImGui::TextColored(state_color(s.state), "%s", s.state.c_str());
    ImGui::SameLine();
    ImGui::TextDisabled("%s%s", format_duration(now_us - s.state_since_us).c_str(), suffix);
    std::string what = waiting_for(s);
    if (!what.empty()) {
        if (what.size() > 300) what = what.substr(0, 300) + "...";
        ImGui::PushTextWrapPos(ImGui::GetContentRegionMax().x - 8);
        ImGui::TextUnformatted(what.c_str());
        ImGui::PopTextWrapPos();
    }
}

// Approve and Deny of a pending request (a number here, "host:REQ" for another host's).
void draw_answers(Recorder& rec, const nlohmann::json& target, Actions& actions) {
    ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.15f, 0.50f, 0.20f, 1));
    if (rec.button("Approve", "approve")) actions.requests.push_back({{"cmd", "approve"}, {"target", target}, {"by", "ui"}});
    ImGui::PopStyleColor();
    ImGui::SameLine();
    ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.55f, 0.18f, 0.15f, 1));
    if (rec.button("Deny", "deny")) actions.requests.push_back({{"cmd", "deny"}, {"target", target}, {"by", "ui"}});
    ImGui::PopStyleColor();
}

// The accent ring around a card that needs you (else a quiet one when selected).
void draw_frame(ImVec2 top, bool ring, bool selected) {
    ImVec2 bottom = ImGui::GetItemRectMax();
    float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    ImDrawList* draw = ImGui::GetWindowDrawList();
    if (ring) draw->AddRect(ImVec2(top.x - 4, top.y - 4), ImVec2(right, bottom.y + 4), k_accent, 6.0f, 0, 3.0f);
    else if (selected) draw->AddRect(ImVec2(top.x - 4, top.y - 4), ImVec2(right, bottom.y + 4), IM_COL32(90, 110, 160, 255), 6.0f);
    ImGui::Dummy(ImVec2(0, 6));
}

void draw_card(const Model& model, const SessionView& s, UiState& ui, ViewState& view, int64_t now_us, Layout* layout,
               Actions& actions) {
    ImGui::PushID(static_cast<int>(s.id));
    bool muted = ui.is_muted(s.id, now_us);
    bool acked = view.acked.count(s.id) && view.acked[s.id] == s.state_since_us;
    bool ring = needs_you(s.state) && !muted && !acked;
    ImVec2 top = ImGui::GetCursorScreenPos();
    ImGui::BeginGroup();
    char label[256];
    std::snprintf(label, sizeof label, "%s##name", s.name.c_str());
    float name_w = ImGui::CalcTextSize(s.name.c_str()).x;
    Recorder rec{layout, s.name};
    if (ImGui::Selectable(label, view.selected == s.id, 0, ImVec2(name_w, 0))) view.selected = s.id;
    rec.record("select");
    draw_state_line(s, now_us, muted ? "  (muted)" : "");
    if (const PendingView* p = model.pending_for(s.id)) {
        draw_answers(rec, p->request, actions);
        ImGui::SameLine();
    }
    if (s.live && !s.external) {
        if (rec.button("Attach", "attach")) actions.attach = s.id;
        ImGui::SameLine();
    }
    if (needs_you(s.state) && !acked) {
        if (rec.button("Ack", "ack")) {
            actions.requests.push_back({{"cmd", "ack"}, {"session", s.id}, {"by", "ui"}});
            view.acked[s.id] = s.state_since_us;
        }
        ImGui::SameLine();
    }
    if (muted) {
        if (rec.button("Unmute", "unmute")) {
            ui.muted.erase(s.id);
            actions.state_changed = true;
        }
    } else {
        if (rec.button("Mute", "mute")) {
            ui.muted[s.id] = 0;
            actions.state_changed = true;
        }
        ImGui::SameLine();
        if (rec.button("Snooze 15m", "snooze")) {
            ui.muted[s.id] = now_us + k_snooze_us;
            actions.state_changed = true;
        }
    }
    ImGui::EndGroup();
    draw_frame(top, ring, view.selected == s.id);
    ImGui::PopID();
}

// A session of another host: the same card, ring and answers; its terminal is there.
void draw_remote_card(const HostView& h, const SessionView& s, int64_t now_us, Layout* layout, Actions& actions) {
    std::string key = h.host + ":" + s.name;
    ImGui::PushID(key.c_str());
    ImVec2 top = ImGui::GetCursorScreenPos();
    ImGui::BeginGroup();
    Recorder rec{layout, key};
    ImGui::TextUnformatted(s.name.c_str());
    draw_state_line(s, now_us, "");
    if (const PendingView* p = h.pending_for(s.id)) draw_answers(rec, h.host + ":" + std::to_string(p->request), actions);
    ImGui::EndGroup();
    draw_frame(top, needs_you(s.state), false);
    ImGui::PopID();
}

// The fleet's other hosts, each under its name: live sessions, the ones that need you first.
void draw_fleet(const Model& model, int64_t now_us, Layout* layout, Actions& actions) {
    for (const auto& [name, h] : model.fleet) {
        if (h.self) continue;
        std::vector<const SessionView*> order;
        for (const auto& [id, s] : h.sessions)
            if (s.live) order.push_back(&s);
        std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return needs_you(a->state) && !needs_you(b->state); });
        ImGui::Separator();
        ImGui::TextColored(ImVec4(0.7f, 0.8f, 1.0f, 1), "%s", name.c_str());
        if (!h.daemon_up) ImGui::TextDisabled("its tetherd is stopped");
        else if (order.empty()) ImGui::TextDisabled("no live sessions");
        for (const SessionView* s : order) draw_remote_card(h, *s, now_us, layout, actions);
    }
}

void draw_screen(const Model& model, ViewState& view, Layout* layout, Actions& actions) {
    auto it = model.sessions.find(view.selected);
    if (it == model.sessions.end()) return;
    Recorder rec{layout, it->second.name};
    ImGui::Separator();
    ImGui::Text("Screen of %s", it->second.name.c_str());
    if (it->second.live && !it->second.external) {
        ImGui::SameLine();
        ImGui::Checkbox("Type into it", &view.typing);
        rec.record("typing");
    } else {
        view.typing = false;
    }
    if (!model.screen || model.screen->session != view.selected) {
        ImGui::TextDisabled(it->second.external ? "(an agent tether did not start: no screen here)" : "(loading)");
        return;
    }
    if (!model.screen->error.empty()) {
        ImGui::TextDisabled("%s", model.screen->error.c_str());
        return;
    }
    ImGui::BeginChild("screen", ImVec2(0, 0), true, ImGuiWindowFlags_HorizontalScrollbar);
    draw_terminal(*model.screen, view.typing);
    rec.record("screen");
    if (view.typing && ImGui::IsWindowFocused()) {
        std::string bytes = typed_bytes();
        if (!bytes.empty()) actions.requests.push_back({{"cmd", "send"}, {"session", view.selected}, {"data", bytes}});
    }
    ImGui::EndChild();
}

}  // namespace

std::string format_duration(int64_t us) {
    int64_t s = std::max<int64_t>(0, us / 1000000);
    char buf[32];
    if (s < 60) std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
    else if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm %02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
    else std::snprintf(buf, sizeof buf, "%lldh %02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s / 60 % 60));
    return buf;
}

Actions draw_view(const Model& model, UiState& ui, ViewState& view, int64_t now_us, Layout* layout) {
    Actions actions;
    const ImGuiViewport* vp = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(vp->Pos);
    ImGui::SetNextWindowSize(vp->Size);
    ImGui::Begin("tether", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                     ImGuiWindowFlags_NoBringToFrontOnFocus);
    draw_status(model, ui, now_us);
    ImGui::Separator();
    ImGui::Dummy(ImVec2(0, 4));
    // The sessions that need you first, then the others by id; ended ones last.
    std::vector<const SessionView*> order;
    for (const auto& [id, s] : model.sessions) order.push_back(&s);
    auto rank = [&](const SessionView* s) { return !s->live ? 2 : needs_you(s->state) && !ui.is_muted(s->id, now_us) ? 0 : 1; };
    std::stable_sort(order.begin(), order.end(), [&](auto* a, auto* b) { return rank(a) < rank(b); });
    float list_h = model.sessions.count(view.selected) ? ImGui::GetContentRegionAvail().y * 0.45f : 0;
    ImGui::BeginChild("sessions", ImVec2(0, list_h), false);
    ImGui::Dummy(ImVec2(0, 2));
    ImGui::Indent(6);
    for (const auto& [name, h] : model.fleet)
        if (h.self) ImGui::TextColored(ImVec4(0.7f, 0.8f, 1.0f, 1), "%s (this host)", name.c_str());
    // Without the daemon the cards are what it last said: shown greyed, with no actions.
    if (!model.connected) ImGui::BeginDisabled();
    for (const SessionView* s : order) {
        if (!s->live && s->id != view.selected && now_us - s->state_since_us > 10LL * 60 * 1000000) continue;
        draw_card(model, *s, ui, view, now_us, model.connected ? layout : nullptr, actions);
    }
    if (!model.connected) ImGui::EndDisabled();
    if (model.connected && !model.sessions.empty() && !model.sessions.count(view.selected))
        ImGui::TextDisabled("Click a name to see that session's screen.");
    if (model.connected && model.sessions.empty()) ImGui::TextDisabled("No sessions yet: tether run -- claude");
    if (model.connected) draw_fleet(model, now_us, layout, actions);
    ImGui::Unindent(6);
    ImGui::EndChild();
    draw_screen(model, view, model.connected ? layout : nullptr, actions);
    ImGui::End();
    return actions;
}

}  // namespace tether::ui
