// tether-ui: the always-on-top window that shows every agent at a glance. Flags, the
// GLFW window and the ImGui frame loop; waits for events (never polls), so an idle
// window costs nothing but one redraw a second while times are on show. It reads no
// config file: the daemon tells it what it needs (`ui_settings`, through DaemonLink).
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <utility>

#include "attach_launcher.h"
#include "base/clock.h"
#include "base/paths.h"
#include "daemon_link.h"
#include "ui_state.h"
#include "view.h"

namespace {

using namespace tether;
using namespace tether::ui;

struct Flags {
    std::string socket, config, font;
    std::string chime_plugin = "sound";
    std::map<std::string, std::string> chime_options;
};

struct App {
    bool input = false;  // an input event since the last frame
    UiState state;
    std::string state_path;
    std::string layout_path;  // TETHER_UI_LAYOUT: every button's rectangle, for tests
    void save() {
        if (auto s = save_ui_state(state_path, state); !s) std::fprintf(stderr, "tether-ui: %s\n", s.error().message.c_str());
    }
};

// Flags into f; false (with the message printed) when they do not parse.
bool parse_flags(int argc, char** argv, Flags& f, int& rc) {
    CLI::App cli{"tether-ui: the always-on-top window that shows every agent at a glance"};
    std::vector<std::string> chime_options;
    cli.add_option("--socket", f.socket, "Control socket (default $TETHER_SOCKET, else $XDG_RUNTIME_DIR/tether/tetherd.sock)");
    cli.add_option("--config", f.config,
                   "Accepted for compatibility: the window uses the daemon's configuration (its ui section and plugin_path)");
    cli.add_option("--font", f.font, "A monospace TTF font (default DejaVu Sans Mono, else ImGui's own)");
    cli.add_option("--chime-plugin", f.chime_plugin,
                   "Notifier plugin that chimes: a name or a path (default sound; \"\" rings the window's bell)");
    cli.add_option("--chime-option", chime_options, "KEY=VALUE option for the chime plugin (repeatable)");
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        rc = cli.exit(e);
        return false;
    }
    for (const auto& kv : chime_options) {
        auto eq = kv.find('=');
        if (eq == std::string::npos) {
            std::fprintf(stderr, "tether-ui: --chime-option %s: write KEY=VALUE\n", kv.c_str());
            rc = 2;
            return false;
        }
        f.chime_options[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return true;
}

void load_fonts(const std::string& wanted) {
    ImGuiIO& io = ImGui::GetIO();
    // What agents draw with: box drawing, blocks, arrows, braille spinners, dingbats.
    static const ImWchar k_ranges[] = {0x0020, 0x00FF, 0x2010, 0x205E, 0x2190, 0x21FF, 0x2300, 0x23FF,
                                       0x2500, 0x27BF, 0x2800, 0x28FF, 0};
    const std::string dejavu = "/usr/share/fonts/truetype/dejavu/";
    for (const std::string& path : {wanted, dejavu + "DejaVuSansMono.ttf"}) {
        if (path.empty() || access(path.c_str(), R_OK) != 0) continue;
        if (!io.Fonts->AddFontFromFileTTF(path.c_str(), 15.0f, nullptr, k_ranges)) continue;
        // Symbols the monospace font lacks (⏺) come from its proportional sibling.
        if (std::string fallback = dejavu + "DejaVuSans.ttf"; access(fallback.c_str(), R_OK) == 0) {
            ImFontConfig merge;
            merge.MergeMode = true;
            io.Fonts->AddFontFromFileTTF(fallback.c_str(), 15.0f, &merge, k_ranges);
        }
        return;
    }
    io.Fonts->AddFontDefault();
}

void write_layout(const std::string& path, const Layout& layout, const Model& model, const ViewState& view) {
    nlohmann::json j{{"buttons", layout}, {"connected", model.connected}, {"selected", view.selected}, {"typing", view.typing},
                     {"screen_session", model.screen ? model.screen->session : 0}};
    std::string tmp = path + ".tmp";
    std::ofstream(tmp) << j.dump() << "\n";
    std::rename(tmp.c_str(), path.c_str());
}

App& app_of(GLFWwindow* w) { return *static_cast<App*>(glfwGetWindowUserPointer(w)); }

// The floating window, with callbacks that keep its geometry and note input; null when
// there is no display.
GLFWwindow* open_window(App& app) {
    if (!glfwInit()) {
        std::fprintf(stderr, "tether-ui: cannot open a window (no display? set DISPLAY)\n");
        return nullptr;
    }
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
    glfwWindowHint(GLFW_FLOATING, GLFW_TRUE);
    GLFWwindow* window = glfwCreateWindow(app.state.width, app.state.height, "tether", nullptr, nullptr);
    if (!window) {
        std::fprintf(stderr, "tether-ui: cannot create an OpenGL 3 window\n");
        glfwTerminate();
        return nullptr;
    }
    if (app.state.x >= 0 && app.state.y >= 0) glfwSetWindowPos(window, app.state.x, app.state.y);
    glfwSetWindowUserPointer(window, &app);
    glfwSetWindowPosCallback(window, [](GLFWwindow* w, int x, int y) {
        app_of(w).state.x = x;
        app_of(w).state.y = y;
    });
    glfwSetWindowSizeCallback(window, [](GLFWwindow* w, int width, int height) {
        if (width > 0 && height > 0) {
            app_of(w).state.width = width;
            app_of(w).state.height = height;
        }
    });
    // Set before ImGui's backend, which chains to them: they only note that input came.
    glfwSetCursorPosCallback(window, [](GLFWwindow* w, double, double) { app_of(w).input = true; });
    glfwSetMouseButtonCallback(window, [](GLFWwindow* w, int, int, int) { app_of(w).input = true; });
    glfwSetScrollCallback(window, [](GLFWwindow* w, double, double) { app_of(w).input = true; });
    glfwSetKeyCallback(window, [](GLFWwindow* w, int, int, int, int) { app_of(w).input = true; });
    glfwSetCharCallback(window, [](GLFWwindow* w, unsigned) { app_of(w).input = true; });
    glfwSetCursorEnterCallback(window, [](GLFWwindow* w, int) { app_of(w).input = true; });
    glfwSetWindowFocusCallback(window, [](GLFWwindow* w, int) { app_of(w).input = true; });
    glfwMakeContextCurrent(window);
    glfwSwapInterval(1);
    return window;
}

void start_imgui(GLFWwindow* window, const std::string& font) {
    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGui::GetIO().IniFilename = nullptr;  // geometry lives in our own state file
    ImGui::StyleColorsDark();
    ImGui::GetStyle().WindowRounding = 0;
    load_fonts(font);
    ImGui_ImplGlfw_InitForOpenGL(window, true);
    ImGui_ImplOpenGL3_Init("#version 130");
}

void stop_window(GLFWwindow* window) {
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
    glfwDestroyWindow(window);
    glfwTerminate();
}

// Waits for the next reason to draw. settle: frames still owed to the last input.
void wait_for_news(GLFWwindow* window, App& app, const DaemonLink& link, int& settle) {
    if (settle > 0) {
        --settle;
        glfwPollEvents();
        if (std::exchange(app.input, false)) settle = 1;
        return;
    }
    bool ticking = glfwGetWindowAttrib(window, GLFW_VISIBLE) && !glfwGetWindowAttrib(window, GLFW_ICONIFIED) &&
                   !link.model().sessions.empty();
    double now = glfwGetTime();
    if (ticking) glfwWaitEventsTimeout(std::max(0.05, std::ceil(now) - now));  // times tick on the second
    else glfwWaitEvents();
    // Input needs a second frame (ImGui reacts on one and draws on the next, and a
    // click's release must be seen apart from its press); news from the daemon and the
    // clock's tick do not.
    settle = std::exchange(app.input, false) ? 1 : 0;
}

// One frame: draw the model, then do what the user asked.
Actions draw_frame(GLFWwindow* window, App& app, const Model& model, ViewState& view, int64_t now) {
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    // ImGui 1.86's GLFW backend reads the pointer only in a focused window, so the click
    // that focuses this one (Approve, while you work elsewhere) would be lost.
    if (!glfwGetWindowAttrib(window, GLFW_FOCUSED) && glfwGetWindowAttrib(window, GLFW_HOVERED)) {
        double x, y;
        glfwGetCursorPos(window, &x, &y);
        ImGui::GetIO().MousePos = ImVec2(static_cast<float>(x), static_cast<float>(y));
    }
    ImGui::NewFrame();
    Layout layout;
    Actions actions = draw_view(model, app.state, view, now, app.layout_path.empty() ? nullptr : &layout);
    ImGui::Render();
    int w, h;
    glfwGetFramebufferSize(window, &w, &h);
    glViewport(0, 0, w, h);
    glClearColor(0.08f, 0.08f, 0.10f, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    glfwSwapBuffers(window);
    if (!app.layout_path.empty()) write_layout(app.layout_path, layout, model, view);
    return actions;
}

// The frame loop, until the window is closed.
void run_window(GLFWwindow* window, App& app, DaemonLink& link, const Paths& paths) {
    ViewState view;
    uint64_t bells_rung = 0;
    std::string last_saved;
    int settle = 2;  // ImGui lays out on one frame and may draw the result on the next
    for (;;) {
        wait_for_news(window, app, link, settle);
        if (glfwWindowShouldClose(window)) break;
        Model model = link.model();
        if (link.bells() != bells_rung) {
            bells_rung = link.bells();
            glfwRequestWindowAttention(window);
            if (isatty(STDERR_FILENO)) std::fputc('\a', stderr);
        }
        int64_t now = now_us();
        std::set<int64_t> muted;
        for (const auto& [id, until] : app.state.muted)
            if (app.state.is_muted(id, now)) muted.insert(id);
        link.set_muted(muted);

        Actions actions = draw_frame(window, app, model, view, now);
        link.select(model.sessions.count(view.selected) ? view.selected : 0);
        for (auto& r : actions.requests) link.request(std::move(r));
        if (actions.attach) {
            if (auto s = open_attach_terminal(terminal_command(model.terminal), actions.attach, paths.socket_path); !s)
                std::fprintf(stderr, "tether-ui: %s\n", s.error().message.c_str());
        }
        std::string snapshot = std::to_string(app.state.x) + "," + std::to_string(app.state.y) + "," +
                               std::to_string(app.state.width) + "," + std::to_string(app.state.height) + "," +
                               std::to_string(app.state.muted.size());
        if (actions.state_changed || snapshot != last_saved) {
            if (!last_saved.empty() || actions.state_changed) app.save();
            last_saved = snapshot;
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    Flags flags;
    int rc = 0;
    if (!parse_flags(argc, argv, flags, rc)) return rc;
    Paths paths = resolve_paths("", flags.socket, flags.config);

    App app;
    app.state_path = default_ui_state_path();
    if (auto s = load_ui_state(app.state_path); s) app.state = *s;
    else std::fprintf(stderr, "tether-ui: %s\n", s.error().message.c_str());
    if (const char* p = std::getenv("TETHER_UI_LAYOUT"); p && *p) app.layout_path = p;

    GLFWwindow* window = open_window(app);
    if (!window) return 1;
    start_imgui(window, flags.font);
    {
        DaemonLink link(LinkOptions{.paths = paths, .chime_plugin = flags.chime_plugin,
                                    .chime_options = flags.chime_options, .wake = [] { glfwPostEmptyEvent(); }});
        run_window(window, app, link, paths);
        app.save();
    }
    stop_window(window);
    return 0;
}
