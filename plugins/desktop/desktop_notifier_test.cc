// tether-notifier-desktop through its C ABI (dlopen, like the daemon), against
// tests/fake_notifyd.py on the private session bus that dbus-run-session gives this test
// (see CMakeLists.txt): what the server receives, replacing, buttons and what a click
// does, Open's detached command, and a missing or vanishing bus.
#include <dlfcn.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "notifier_abi.h"
#include "support.h"

extern char** environ;

namespace {

using json = nlohmann::json;
using Opts = std::map<std::string, std::string>;
using tether::test::TempDir;
namespace fs = std::filesystem;

bool wait_until(const std::function<bool()>& pred, double timeout_s = 20) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
}

// A child process with its stdout on a pipe; killed and reaped on destruction.
class Child {
public:
    Child(std::vector<std::string> argv, const std::map<std::string, std::string>& env_overrides = {}) {
        int fds[2];
        REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        std::vector<std::string> env_strings;
        for (char** e = environ; *e; ++e) {
            std::string kv(*e);
            if (!env_overrides.count(kv.substr(0, kv.find('=')))) env_strings.push_back(kv);
        }
        for (const auto& [k, v] : env_overrides) env_strings.push_back(k + "=" + v);
        std::vector<char*> envp, args;
        for (auto& s : env_strings) envp.push_back(s.data());
        envp.push_back(nullptr);
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        int rc = posix_spawnp(&m_pid, args[0], &fa, nullptr, args.data(), envp.data());
        posix_spawn_file_actions_destroy(&fa);
        close(fds[1]);
        m_out = fds[0];
        REQUIRE_MESSAGE(rc == 0, "cannot start " << argv[0]);
    }
    ~Child() { stop(); }

    // The first line the child writes, waiting at most timeout_s.
    std::string read_line(double timeout_s = 20) {
        std::string line;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{m_out, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0) continue;
            char c;
            if (read(m_out, &c, 1) != 1) break;
            if (c == '\n') return line;
            line += c;
        }
        return line;
    }

    void stop() {
        if (m_pid > 0) {
            kill(m_pid, SIGKILL);
            waitpid(m_pid, nullptr, 0);
            m_pid = -1;
        }
        if (m_out >= 0) close(m_out), m_out = -1;
    }
    pid_t pid() const { return m_pid; }

private:
    pid_t m_pid = -1;
    int m_out = -1;
};

// A private connection to a bus, for the tests' own calls.
class Bus {
public:
    explicit Bus(const std::string& address) {
        GError* e = nullptr;
        m_c = g_dbus_connection_new_for_address_sync(
            address.c_str(),
            static_cast<GDBusConnectionFlags>(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                              G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION),
            nullptr, nullptr, &e);
        REQUIRE_MESSAGE(m_c, (e ? e->message : "?"));
        g_dbus_connection_set_exit_on_close(m_c, FALSE);
    }
    ~Bus() {
        g_dbus_connection_close_sync(m_c, nullptr, nullptr);
        g_object_unref(m_c);
    }
    bool name_has_owner(const char* name) {
        GVariant* r = g_dbus_connection_call_sync(m_c, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                                  "NameHasOwner", g_variant_new("(s)", name), G_VARIANT_TYPE("(b)"),
                                                  G_DBUS_CALL_FLAGS_NONE, 5000, nullptr, nullptr);
        gboolean owned = FALSE;
        if (r) g_variant_get(r, "(b)", &owned), g_variant_unref(r);
        return owned;
    }
    // The fake server's control interface: what a user's click or dismissal does.
    void control(const char* method, GVariant* args) {
        GError* e = nullptr;
        GVariant* r = g_dbus_connection_call_sync(m_c, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                                                  "org.tether.FakeNotifyd", method, args, nullptr, G_DBUS_CALL_FLAGS_NONE,
                                                  5000, nullptr, &e);
        REQUIRE_MESSAGE(r, (e ? e->message : "?"));
        g_variant_unref(r);
    }

private:
    GDBusConnection* m_c = nullptr;
};

std::string session_address() {
    const char* a = std::getenv("DBUS_SESSION_BUS_ADDRESS");
    REQUIRE_MESSAGE((a && *a), "no session bus: run this test under dbus-run-session (ctest does)");
    return a;
}

// tests/fake_notifyd.py on a bus, recording into a file of its own.
class FakeServer {
public:
    explicit FakeServer(const TempDir& tmp, const std::string& capabilities = "body,actions", std::string address = "")
        : m_address(address.empty() ? session_address() : address),
          m_record(tmp.file("notify-" + std::to_string(++s_count) + ".jsonl")),
          m_child({TETHER_FAKE_NOTIFYD, m_record, "--capabilities", capabilities},
                  {{"DBUS_SESSION_BUS_ADDRESS", m_address}}) {
        std::string line = m_child.read_line();
        REQUIRE_MESSAGE(line == "ready", "fake_notifyd.py did not start (python3-dbus and python3-gi installed?)");
        m_bus = std::make_unique<Bus>(m_address);
    }
    ~FakeServer() { stop(); }

    void stop() {
        if (m_child.pid() <= 0) return;
        m_child.stop();
        // The next server can own the name only once the bus has seen this one go.
        wait_until([&] { return !m_bus->name_has_owner("org.freedesktop.Notifications"); });
    }

    std::vector<json> calls() const {
        std::vector<json> out;
        std::istringstream in(tether::test::read_file(m_record));
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) out.push_back(json::parse(line));
        return out;
    }
    pid_t pid() const { return m_child.pid(); }
    void invoke(uint32_t id, const std::string& key) { m_bus->control("InvokeAction", g_variant_new("(us)", id, key.c_str())); }
    void dismiss(uint32_t id, uint32_t reason) { m_bus->control("Dismiss", g_variant_new("(uu)", id, reason)); }

private:
    static inline int s_count = 0;
    std::string m_address, m_record;
    Child m_child;
    std::unique_ptr<Bus> m_bus;
};

// What the plugin told its host, collected from whatever thread it called on.
struct HostRecord {
    struct Decision {
        int64_t request;
        int decision;
        std::string message;
    };
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::string> logs, events;
    std::vector<Decision> decisions;

    template <typename F>
    bool wait(F pred, double timeout_s = 20) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] { return pred(); });
    }
    size_t events_with(const std::string& code) {
        std::lock_guard lock(mutex);
        size_t n = 0;
        for (const auto& e : events) n += e.rfind(code + ":", 0) == 0;
        return n;
    }
};

void host_log(void* ctx, int, const char* text) {
    auto* r = static_cast<HostRecord*>(ctx);
    std::lock_guard lock(r->mutex);
    r->logs.emplace_back(text);
    r->changed.notify_all();
}
void host_event(void* ctx, const char* code, const char* text) {
    auto* r = static_cast<HostRecord*>(ctx);
    std::lock_guard lock(r->mutex);
    r->events.push_back(std::string(code) + ": " + text);
    r->changed.notify_all();
}
int host_decide(void* ctx, int64_t request, int decision, const char* message) {
    auto* r = static_cast<HostRecord*>(ctx);
    std::lock_guard lock(r->mutex);
    r->decisions.push_back({request, decision, message ? message : ""});
    r->changed.notify_all();
    return 0;
}

// One notification, owned, lent to the plugin as a notifier_message.
struct Msg {
    std::string session_id = "7", session_name = "api", kind = "permission", title, body, tool = "Bash",
                tool_input_json = R"({"command":"make deploy"})", cwd = "/home/u/api", message;
    int64_t time_ms = 1700000000000;
    int64_t permission_request = 0;
    std::vector<std::pair<std::string, std::string>> rule_options;
};

// The plugin, loaded and created like the daemon does.
class Plugin {
public:
    explicit Plugin(const std::map<std::string, std::string>& options, bool host_1_0 = false) {
        m_lib = dlopen(TETHER_DESKTOP_PLUGIN, RTLD_NOW | RTLD_LOCAL);
        REQUIRE_MESSAGE(m_lib, dlerror());
        auto entry = reinterpret_cast<notifier_plugin_entry_fn>(dlsym(m_lib, "notifier_plugin_entry"));
        REQUIRE(static_cast<bool>(entry));
        m_p = entry();
        REQUIRE(m_p->abi_major == NOTIFIER_ABI_MAJOR);
        m_host = notifier_host{NOTIFIER_ABI_MAJOR, NOTIFIER_ABI_MINOR, sizeof(notifier_host), &record,
                               &host_log, &host_event, &host_decide, nullptr};
        if (host_1_0) {
            m_host.abi_minor = 0;
            m_host.struct_size = offsetof(notifier_host, decide);
            m_host.decide = nullptr;
        }
        std::vector<notifier_kv> kv;
        for (const auto& [k, v] : options) kv.push_back({k.c_str(), v.c_str()});
        char err[NOTIFIER_ERROR_MAX] = "";
        m_self = m_p->create(&m_host, kv.data(), kv.size(), err, sizeof err);
        m_create_error = err;
    }
    ~Plugin() {
        if (m_self) m_p->destroy(m_self);
        // The library stays loaded, as in the daemon (GLib is never unloaded anyway).
    }
    bool created() const { return m_self != nullptr; }
    const std::string& create_error() const { return m_create_error; }

    // NOTIFIER_OK, _RETRY or _FAIL; the text in *error.
    int send(const Msg& m, std::string* error = nullptr) {
        std::vector<notifier_kv> kv;
        for (const auto& [k, v] : m.rule_options) kv.push_back({k.c_str(), v.c_str()});
        notifier_message msg{};
        msg.abi_major = NOTIFIER_ABI_MAJOR;
        msg.abi_minor = NOTIFIER_ABI_MINOR;
        msg.struct_size = sizeof msg;
        msg.idempotency_key = "1";
        msg.attempt = 1;
        msg.time_ms = m.time_ms;
        msg.rule = "r";
        msg.session_id = m.session_id.c_str();
        msg.session_name = m.session_name.c_str();
        msg.agent = "claude";
        msg.state_from = "running";
        msg.state_to = "needs_permission";
        msg.kind = m.kind.c_str();
        msg.title = m.title.c_str();
        msg.body = m.body.c_str();
        msg.tool = m.tool.c_str();
        msg.tool_input_json = m.tool_input_json.c_str();
        msg.cwd = m.cwd.c_str();
        msg.message = m.message.c_str();
        msg.json_payload = "{}";
        msg.rule_options = kv.data();
        msg.rule_options_len = kv.size();
        msg.permission_request = m.permission_request;
        char err[NOTIFIER_ERROR_MAX] = "";
        int rc = m_p->send(m_self, &msg, err, sizeof err);
        if (error) *error = err;
        return rc;
    }
    void destroy() {
        if (m_self) m_p->destroy(m_self), m_self = nullptr;
    }

    HostRecord record;

private:
    void* m_lib = nullptr;
    const notifier_plugin* m_p = nullptr;
    notifier_host m_host{};
    void* m_self = nullptr;
    std::string m_create_error;
};

// Sends and expects success.
void send_ok(Plugin& p, const Msg& m) {
    std::string err;
    int rc = p.send(m, &err);
    REQUIRE_MESSAGE(rc == NOTIFIER_OK, "send: " << rc << " " << err);
}

// An environment variable set for one scope.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : m_name(name) {
        if (const char* old = std::getenv(name)) m_old = old, m_had = true;
        if (value) setenv(name, value, 1);
        else unsetenv(name);
    }
    ~ScopedEnv() {
        if (m_had) setenv(m_name.c_str(), m_old.c_str(), 1);
        else unsetenv(m_name.c_str());
    }

private:
    std::string m_name, m_old;
    bool m_had = false;
};

}  // namespace

TEST_CASE("a permission request becomes a critical notification naming the session, the tool and its command, with Approve, Deny and Open") {
    TempDir tmp;
    FakeServer server(tmp);
    Plugin p(Opts{});
    REQUIRE_MESSAGE(p.created(), p.create_error());
    Msg m;
    m.permission_request = 42;
    send_ok(p, m);
    auto calls = server.calls();
    REQUIRE(calls.size() == 1);
    const json& c = calls[0];
    CHECK(c["app"] == "tether");
    CHECK(c["icon"] == "utilities-terminal");
    CHECK(c["summary"] == "api needs permission for Bash");
    CHECK(c["body"] == "Bash: make deploy");
    CHECK(c["urgency"] == 2);
    CHECK(c["replaces_id"] == 0);
    CHECK(c["timeout"] == -1);
    CHECK(c["actions"] == json{"approve:42", "Approve", "deny:42", "Deny", "open:7", "Open"});
    CHECK(c["hints"]["desktop-entry"] == "tether");
    CHECK(c["hints"]["category"] == "x-tether.permission");
}

TEST_CASE("a newer notification for a session replaces its older one; another session gets its own") {
    TempDir tmp;
    FakeServer server(tmp);
    Plugin p(Opts{{"expire_timeout_ms", "8000"}});
    REQUIRE(p.created());
    Msg perm;
    perm.permission_request = 5;
    send_ok(p, perm);
    Msg done = perm;
    done.kind = "done";
    done.tool = done.tool_input_json = "";
    done.message = "All tests pass.";
    done.permission_request = 0;
    done.time_ms += 1000;
    send_ok(p, done);
    Msg other = done;
    other.session_id = "8";
    other.session_name = "web";
    other.kind = "idle";
    send_ok(p, other);
    Msg question = done;
    question.kind = "question";
    question.message = "Which database?";
    question.time_ms += 1000;
    send_ok(p, question);

    auto calls = server.calls();
    REQUIRE(calls.size() == 4);
    uint32_t first = calls[0]["id"];
    CHECK(calls[1]["replaces_id"] == first);
    CHECK(calls[1]["summary"] == "api is done");
    CHECK(calls[1]["body"] == "All tests pass.");
    CHECK(calls[1]["urgency"] == 1);
    CHECK(calls[1]["timeout"] == 8000);
    CHECK(calls[1]["actions"] == json{"open:7", "Open"});
    CHECK(calls[2]["replaces_id"] == 0);
    CHECK(calls[2]["id"] != first);
    CHECK(calls[2]["urgency"] == 0);
    CHECK(calls[2]["summary"] == "web: idle");
    CHECK(calls[3]["replaces_id"] == first);
    CHECK(calls[3]["urgency"] == 2);
    CHECK(calls[3]["summary"] == "api has a question");

    // A late retry of an older notification does not cover the newer one on screen.
    send_ok(p, perm);
    CHECK(server.calls().size() == 4);
}

TEST_CASE("Approve and Deny clicks decide exactly the request their notification showed") {
    TempDir tmp;
    FakeServer server(tmp);
    Plugin p(Opts{{"deny_message", "not from here"}});
    REQUIRE(p.created());
    Msg m;
    m.permission_request = 41;
    send_ok(p, m);
    uint32_t id = server.calls().back()["id"];
    server.invoke(id, "approve:41");
    REQUIRE(p.record.wait([&] { return p.record.decisions.size() == 1; }));
    CHECK(p.record.decisions[0].request == 41);
    CHECK(p.record.decisions[0].decision == NOTIFIER_DECISION_ALLOW);

    // The next request replaces the notification; its Deny names it, not the first.
    m.permission_request = 43;
    m.time_ms += 1;
    send_ok(p, m);
    CHECK(server.calls().back()["replaces_id"] == id);
    server.invoke(id, "deny:43");
    REQUIRE(p.record.wait([&] { return p.record.decisions.size() == 2; }));
    CHECK(p.record.decisions[1].request == 43);
    CHECK(p.record.decisions[1].decision == NOTIFIER_DECISION_DENY);
    CHECK(p.record.decisions[1].message == "not from here");

    // A click the server reports late for the first request still names the first; the
    // host (which knows it is decided) ignores it. A notification not ours, or a garbled
    // key, decides nothing.
    server.invoke(id, "approve:41");
    REQUIRE(p.record.wait([&] { return p.record.decisions.size() == 3; }));
    CHECK(p.record.decisions[2].request == 41);
    server.invoke(id + 100, "approve:43");
    server.invoke(id, "approve:x");
    REQUIRE(p.record.wait([&] {
        for (const auto& l : p.record.logs)
            if (l.find("not a request number") != std::string::npos) return true;
        return false;
    }));
    CHECK(p.record.decisions.size() == 3);

    // Nothing to decide (a rule answered, or the agent did not wait): no Approve or Deny.
    m.permission_request = 0;
    m.time_ms += 1;
    send_ok(p, m);
    CHECK(server.calls().back()["actions"] == json{"open:7", "Open"});
}

TEST_CASE("a host of ABI 1.0 (no decide) gets no Approve and Deny buttons, only Open") {
    TempDir tmp;
    FakeServer server(tmp);
    Plugin p(Opts{}, /*host_1_0=*/true);
    REQUIRE(p.created());
    Msg m;
    m.permission_request = 42;
    send_ok(p, m);
    CHECK(server.calls().back()["actions"] == json{"open:7", "Open"});
}

TEST_CASE("without the actions capability there are no buttons; with body-markup the body is escaped") {
    TempDir tmp;
    Msg m;
    m.permission_request = 42;
    m.tool_input_json = R"({"command":"echo '<b>' && true"})";
    {
        FakeServer server(tmp, "body");
        Plugin p(Opts{});
        send_ok(p, m);
        CHECK(server.calls().back()["actions"] == json::array());
        CHECK(server.calls().back()["body"] == "Bash: echo '<b>' && true");
    }
    {
        FakeServer server(tmp, "body,actions,body-markup");
        Plugin p(Opts{{"actions", "false"}});
        send_ok(p, m);
        CHECK(server.calls().back()["actions"] == json::array());
        CHECK(server.calls().back()["body"] == "<b>Bash</b>: echo &apos;&lt;b&gt;&apos; &amp;&amp; true");
    }
}

TEST_CASE("a dismissed notification is not replaced: the session's next one pops up anew") {
    TempDir tmp;
    FakeServer server(tmp);
    Plugin p(Opts{});
    Msg m;
    send_ok(p, m);
    uint32_t id = server.calls().back()["id"];
    server.dismiss(id, 2);
    REQUIRE(p.record.wait([&] {
        for (const auto& l : p.record.logs)
            if (l == "notification " + std::to_string(id) + " closed (reason 2)") return true;
        return false;
    }));
    m.time_ms += 1;
    send_ok(p, m);
    CHECK(server.calls().back()["replaces_id"] == 0);
    CHECK(server.calls().back()["id"] != id);
}

TEST_CASE("Open runs the configured command detached: own session, stdio on /dev/null, no inherited descriptors, no zombie") {
    TempDir tmp;
    FakeServer server(tmp);
    std::string script = tmp.file("open.py"), out = tmp.file("open.json");
    tether::test::write_file(script, R"(import json, os, sys
fds = []
for fd in range(1024):
    try:
        os.fstat(fd)
        fds.append(fd)
    except OSError:
        pass
info = {"argv": sys.argv[2:], "pid": os.getpid(), "sid": os.getsid(0), "ppid": os.getppid(), "fds": fds,
        "stdin": os.readlink("/proc/self/fd/0"), "stdout": os.readlink("/proc/self/fd/1")}
with open(sys.argv[1] + ".tmp", "w") as f:
    json.dump(info, f)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
)");
    // A descriptor the test holds open without CLOEXEC must not reach the command.
    int leak = open("/dev/null", O_RDONLY);
    REQUIRE(leak >= 0);
    Plugin p(Opts{{"open_command", "/usr/bin/python3 " + script + " " + out + " {session} {session_id} {cwd}"}});
    REQUIRE_MESSAGE(p.created(), p.create_error());
    Msg m;
    m.session_name = "my api; rm -rf ~ $(touch pwned)";
    m.kind = "done";
    send_ok(p, m);
    auto call = server.calls().back();
    REQUIRE(call["actions"] == json{"open:7", "Open"});
    server.invoke(call["id"], "open:7");
    REQUIRE(wait_until([&] { return fs::exists(out); }));
    close(leak);
    json info = json::parse(tether::test::read_file(out));
    CHECK(info["argv"] == json{"my api; rm -rf ~ $(touch pwned)", "7", "/home/u/api"});
    CHECK(info["sid"] == info["pid"]);
    CHECK(info["ppid"] != getpid());
    CHECK(info["fds"] == json{0, 1, 2});
    CHECK(info["stdin"] == "/dev/null");
    CHECK(info["stdout"] == "/dev/null");
    CHECK(!fs::exists(fs::current_path() / "pwned"));
    // Every child of this process is the fake server: the spawn left nothing to reap.
    std::string children;
    for (const auto& t : fs::directory_iterator("/proc/self/task"))
        children += tether::test::read_file((t.path() / "children").string());
    CHECK(children == std::to_string(server.pid()) + " ");
}

TEST_CASE("no session bus: create succeeds with one event, and sends are retryable with the reason") {
    TempDir tmp;
    ScopedEnv no_bus("DBUS_SESSION_BUS_ADDRESS", nullptr);
    ScopedEnv runtime("XDG_RUNTIME_DIR", tmp.path().c_str());
    Plugin p(Opts{});
    REQUIRE_MESSAGE(p.created(), p.create_error());
    CHECK(p.record.events_with("no_session_bus") == 1);
    std::string err;
    CHECK(p.send(Msg{}, &err) == NOTIFIER_RETRY);
    CHECK(err.find("no D-Bus session bus") != std::string::npos);
    CHECK(err.find(tmp.file("bus")) != std::string::npos);
    CHECK(p.send(Msg{}, &err) == NOTIFIER_RETRY);
    CHECK(p.record.events_with("no_session_bus") == 1);
}

TEST_CASE("no notification server: retryable, reported once, and it works once a server appears") {
    TempDir tmp;
    Plugin p(Opts{});
    std::string err;
    CHECK(p.send(Msg{}, &err) == NOTIFIER_RETRY);
    CHECK(err.find("no notification server") != std::string::npos);
    CHECK(p.send(Msg{}, &err) == NOTIFIER_RETRY);
    CHECK(p.record.events_with("no_notification_server") == 1);
    FakeServer server(tmp);
    send_ok(p, Msg{});
    CHECK(server.calls().size() == 1);
    std::lock_guard lock(p.record.mutex);
    CHECK(std::find(p.record.logs.begin(), p.record.logs.end(), "desktop notifications work again") != p.record.logs.end());
}

TEST_CASE("the bus going away is a retryable error, not a crash, and destroy still stops cleanly") {
    TempDir tmp;
    // A bus of this test's own (bus_address), so it can die without taking the others.
    Child bus({"dbus-daemon", "--session", "--nofork", "--print-address"});
    std::string address = bus.read_line();
    REQUIRE_MESSAGE(address.rfind("unix:", 0) == 0, "dbus-daemon printed " << address);
    {
        FakeServer server(tmp, "body,actions", address);
        Plugin p(Opts{{"bus_address", address}});
        REQUIRE_MESSAGE(p.created(), p.create_error());
        send_ok(p, Msg{});
        CHECK(server.calls().size() == 1);
        bus.stop();
        std::string err;
        CHECK(p.send(Msg{}, &err) == NOTIFIER_RETRY);
        CHECK(!err.empty());
        CHECK(p.send(Msg{}, &err) == NOTIFIER_RETRY);
        p.destroy();
    }
}

TEST_CASE("instances come and go while connected and listening") {
    TempDir tmp;
    FakeServer server(tmp);
    for (int i = 0; i < 20; ++i) {
        Plugin p(Opts{});
        Msg m;
        m.session_id = std::to_string(i);
        send_ok(p, m);
    }
    CHECK(server.calls().size() == 20);
}

TEST_CASE("bad options are refused, naming the option") {
    auto error_of = [](std::map<std::string, std::string> o) {
        Plugin p(o);
        CHECK(!p.created());
        return p.create_error();
    };
    CHECK(error_of({{"open_command", "term -e 'tether"}}).find("bad options: open_command:") == 0);
    CHECK(error_of({{"bus_address", "nonsense"}}).find("bad options: bus_address: \"nonsense\"") == 0);
    CHECK(error_of({{"expire_timeout_ms", "soon"}}) == "bad options: expire_timeout_ms: expected an integer, got \"soon\"");
    CHECK(error_of({{"actions", "maybe"}}) == "bad options: actions: expected true or false, got \"maybe\"");
    CHECK(error_of({{"urgency", "high"}}) == "bad options: unknown option urgency");
}
