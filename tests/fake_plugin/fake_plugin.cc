// tether-notifier-fake: a notifier that records every message it is sent as one JSON line
// in a file, so the plugin host (and e2e scenarios) can be tested without a network.
// Options: file (required), fail_first=N (the first N sends return RETRY "simulated
// failure"), sleep_ms=N (sleep in send, after recording, to test timeouts),
// throw=send|send-nonstd|create (throw inside the plugin to prove the SDK catches it),
// event=<text> (report it through notifier_host.event at create, code "fake_event"),
// decide=allow|deny|bad (answer each message's permission_request through
// notifier_host.decide from a thread of its own; bad passes request -1), recording
// whether decide took it as decide_ok; answer=allow|deny|always|bad-who (the same through
// notifier_host.answer, ABI 1.2, as user "tester", recording answer_status and
// answer_reason); receipt=yes (each send and update hands the host a receipt,
// "fake:<key>"); answer_in_create=yes (calls answer on the host's main thread, and
// records what it said in the first line). Updates (ABI 1.2) are recorded as lines with
// "update": true.
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "notifier_sdk.hpp"

namespace {

class FakeNotifier {
public:
    FakeNotifier(notifier_sdk::Host host, const notifier_sdk::Options& o)
        : m_host(host),
          m_file(o.required("file")),
          m_fail_first(o.integer("fail_first", 0, 0, 1000000)),
          m_sleep_ms(o.integer("sleep_ms", 0, 0, 600000)),
          m_throw(o.get("throw", "")),
          m_decide(o.get("decide", "")),
          m_answer(o.get("answer", "")),
          m_receipt(o.boolean("receipt", false)) {
        o.reject_unknown({"file", "fail_first", "sleep_ms", "throw", "event", "decide", "answer", "receipt", "answer_in_create"});
        if (m_answer != "" && m_answer != "allow" && m_answer != "deny" && m_answer != "always" && m_answer != "bad-who")
            throw notifier_sdk::BadOptions("answer: expected allow, deny, always or bad-who, got \"" + m_answer + "\"");
        if (o.boolean("answer_in_create", false)) m_created_answer = m_host.answer(1, {true, false, "", "tester", ""});
        if (m_decide != "" && m_decide != "allow" && m_decide != "deny" && m_decide != "bad")
            throw notifier_sdk::BadOptions("decide: expected allow, deny or bad, got \"" + m_decide + "\"");
        if (m_throw != "" && m_throw != "send" && m_throw != "send-nonstd" && m_throw != "create")
            throw notifier_sdk::BadOptions("throw: expected send, send-nonstd or create, got \"" + m_throw + "\"");
        if (m_throw == "create") throw std::runtime_error("simulated exception in create");
        if (auto text = o.optional("event")) m_host.event("fake_event", *text);
        m_host.info("recording to " + m_file);
    }

    void send(const notifier_sdk::Message& m) {
        if (m_throw == "send") throw std::runtime_error("simulated exception in send");
        if (m_throw == "send-nonstd") throw 42;
        long n = ++m_calls;
        long long called_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::system_clock::now().time_since_epoch()).count();
        // Sleep first, like a slow network: the receiver has the message only at the end.
        if (m_sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(m_sleep_ms));
        std::optional<bool> decided;
        if (!m_decide.empty() && m.permission_request() != 0) {
            // From a thread of the plugin's own, as a notification's button would.
            int64_t request = m_decide == "bad" ? -1 : m.permission_request();
            std::thread([&] { decided = m_host.decide(request, m_decide == "allow", "decided by the fake"); }).join();
        }
        std::optional<notifier_sdk::Host::Outcome> answered;
        if (!m_answer.empty() && m.permission_request() != 0) {
            notifier_sdk::Host::Answer a{m_answer != "deny", m_answer == "always", "answered by the fake",
                                         m_answer == "bad-who" ? "no spaces allowed" : "tester", std::string(m.session_id())};
            std::thread([&] { answered = m_host.answer(m.permission_request(), a); }).join();
        }
        if (m_receipt) m.set_receipt("fake:" + std::string(m.idempotency_key()));
        nlohmann::json extra = nlohmann::json::object();
        if (decided) extra["decide_ok"] = *decided;
        if (answered) extra["answer_status"] = answered->status, extra["answer_reason"] = answered->reason;
        {
            std::lock_guard lock(m_mutex);  // sends run concurrently
            if (m_created_answer) {
                extra["create_answer_status"] = m_created_answer->status;
                extra["create_answer_reason"] = m_created_answer->reason;
                m_created_answer.reset();
            }
        }
        record(m, n, called_us, extra);
        if (n <= m_fail_first) throw notifier_sdk::Retry("simulated failure " + std::to_string(n));
    }

    void update(const notifier_sdk::Message& m) {
        nlohmann::json extra = {{"update", true},
                                {"update_receipt", m.update_receipt()},
                                {"decision", m.decision()},
                                {"decided_by", m.decided_by()},
                                {"decision_message", m.decision_message()},
                                {"decided_time_ms", m.decided_time_ms()},
                                {"decided_always", m.decided_always()}};
        if (m_receipt) m.set_receipt("fake-update:" + std::string(m.idempotency_key()));
        record(m, ++m_calls, 0, extra);
    }

private:
    void record(const notifier_sdk::Message& m, long call, long long called_us, const nlohmann::json& extra) {
        nlohmann::json options = nlohmann::json::object();
        auto ro = m.rule_options();
        for (size_t i = 0; i < ro.size(); ++i) options[ro[i].key] = ro[i].value;
        nlohmann::json line = {
            {"call", call},
            // When send() was called (wall clock, us): benchmarks measure delivery latency.
            {"called_us", called_us},  // when send() was entered (benchmarks)
            {"idempotency_key", m.idempotency_key()},
            {"attempt", m.attempt()},
            {"time_ms", m.time_ms()},
            {"rule", m.rule()},
            {"session_id", m.session_id()},
            {"session_name", m.session_name()},
            {"agent", m.agent()},
            {"state_from", m.state_from()},
            {"state_to", m.state_to()},
            {"kind", m.kind()},
            {"title", m.title()},
            {"body", m.body()},
            {"tool", m.tool()},
            {"tool_input_json", m.tool_input_json()},
            {"cwd", m.cwd()},
            {"message", m.message()},
            {"json_payload", m.json_payload()},
            {"rule_options", options},
            {"permission_request", m.permission_request()},
            {"always_json", m.always_json()},
            {"session_receipt", m.session_receipt()},
            {"maybe_delivered", m.maybe_delivered()},
        };
        line.update(extra);
        std::string text = line.dump() + "\n";
        std::lock_guard lock(m_mutex);  // send runs concurrently: one whole line per write
        std::ofstream out(m_file, std::ios::app | std::ios::binary);
        out << text;
        out.flush();
        if (!out) throw notifier_sdk::Retry("cannot append to " + m_file);
    }

    notifier_sdk::Host m_host;
    std::string m_file;
    long long m_fail_first;
    long long m_sleep_ms;
    std::string m_throw;
    std::string m_decide, m_answer;
    bool m_receipt;
    std::optional<notifier_sdk::Host::Outcome> m_created_answer;  // what answer said in create
    std::atomic<long> m_calls{0};
    std::mutex m_mutex;
};

}  // namespace

NOTIFIER_PLUGIN(FakeNotifier, "fake", "records every message as a JSON line in a file (tests)")
