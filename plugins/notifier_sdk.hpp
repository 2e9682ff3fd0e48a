// Header-only C++17 helpers for notifier plugin authors: write a class, export it with
// NOTIFIER_PLUGIN, and the SDK fills in the C ABI of notifier_abi.h. Every entry point is
// a catch-all wrapper, so no exception crosses into the host:
//
//   class Webhook {
//   public:
//       Webhook(notifier_sdk::Host host, const notifier_sdk::Options& o)
//           : m_url(o.required("url")), m_timeout(o.integer("timeout_ms", 5000, 1, 60000)) {
//           o.reject_unknown({"url", "timeout_ms"});
//       }
//       void send(const notifier_sdk::Message& m);  // throw notifier_sdk::Retry on 5xx
//   };
//   NOTIFIER_PLUGIN(Webhook, "webhook", "POSTs each notification as JSON")
//
// Plugins built with this header declare the ABI minor of the header (1.2); the accessors
// of fields a newer minor appended read as ""/0/false when the host did not fill them.
// A class with a method `void update(const notifier_sdk::Message&)` gets the ABI's update
// entry point (ABI 1.2: told when a request its message showed was decided); one without
// it leaves update NULL.
//
// In send: return normally for success; throw notifier_sdk::Retry("...") for a transient
// failure; any other exception (notifier_sdk::Fail, std::exception, anything) is a
// permanent failure whose text is the exception's what(). In the constructor, any
// exception makes create fail with its text; the option helpers throw BadOptions, whose
// text reads "bad options: <why>".
#pragma once

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "notifier_abi.h"

namespace notifier_sdk {

// A transient failure: the host retries later.
struct Retry : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// A permanent failure (any other exception is one too).
struct Fail : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// Options the plugin cannot use; what() reads "bad options: <why>".
struct BadOptions : std::runtime_error {
    explicit BadOptions(const std::string& why) : std::runtime_error("bad options: " + why) {}
};

// A borrowed view of flat key/value options; valid for the call it was given to.
class Options {
public:
    Options(const notifier_kv* kv, size_t n) : m_kv(kv), m_n(kv ? n : 0) {}

    std::optional<std::string> optional(std::string_view key) const {
        for (size_t i = 0; i < m_n; ++i)
            if (m_kv[i].key && m_kv[i].value && key == m_kv[i].key) return std::string(m_kv[i].value);
        return std::nullopt;
    }
    bool has(std::string_view key) const { return optional(key).has_value(); }
    std::string get(std::string_view key, std::string fallback) const {
        auto v = optional(key);
        return v ? *v : std::move(fallback);
    }
    std::string required(std::string_view key) const {
        auto v = optional(key);
        if (!v || v->empty()) throw BadOptions(std::string(key) + " is required");
        return *v;
    }

    // A whole decimal number in [min, max]; fallback when the key is absent.
    long long integer(std::string_view key, long long fallback, long long min = LLONG_MIN,
                      long long max = LLONG_MAX) const {
        auto v = optional(key);
        if (!v) return fallback;
        errno = 0;
        char* end = nullptr;
        long long n = std::strtoll(v->c_str(), &end, 10);
        if (v->empty() || *end != '\0' || errno == ERANGE)
            throw BadOptions(std::string(key) + ": expected an integer, got \"" + *v + "\"");
        if (n < min || n > max)
            throw BadOptions(std::string(key) + ": " + *v + " is out of range [" + std::to_string(min) +
                             ", " + std::to_string(max) + "]");
        return n;
    }

    // true/false, yes/no, on/off, 1/0.
    bool boolean(std::string_view key, bool fallback) const {
        auto v = optional(key);
        if (!v) return fallback;
        if (*v == "true" || *v == "yes" || *v == "on" || *v == "1") return true;
        if (*v == "false" || *v == "no" || *v == "off" || *v == "0") return false;
        throw BadOptions(std::string(key) + ": expected true or false, got \"" + *v + "\"");
    }

    // A typo in a config key must not be silently ignored.
    void reject_unknown(std::initializer_list<std::string_view> known) const {
        for (size_t i = 0; i < m_n; ++i) {
            if (!m_kv[i].key) continue;
            bool ok = false;
            for (auto k : known) ok = ok || k == m_kv[i].key;
            if (!ok) throw BadOptions(std::string("unknown option ") + m_kv[i].key);
        }
    }

    size_t size() const { return m_n; }
    const notifier_kv& operator[](size_t i) const { return m_kv[i]; }

private:
    const notifier_kv* m_kv;
    size_t m_n;
};

// The host's callbacks. Copyable; valid until the instance's destructor returns.
class Host {
public:
    explicit Host(const notifier_host* h) : m_h(h) {}
    void log(int level, const std::string& text) const {
        if (m_h && m_h->log) m_h->log(m_h->ctx, level, text.c_str());
    }
    void info(const std::string& text) const { log(NOTIFIER_LOG_INFO, text); }
    void warn(const std::string& text) const { log(NOTIFIER_LOG_WARN, text); }
    void error(const std::string& text) const { log(NOTIFIER_LOG_ERROR, text); }
    // Recorded by the daemon as an event, e.g. event("no_audio_device", "...").
    void event(const std::string& code, const std::string& text) const {
        if (m_h && m_h->event) m_h->event(m_h->ctx, code.c_str(), text.c_str());
    }
    // ABI 1.1: whether this host can answer permission requests (decide).
    bool can_decide() const { return m_h && NOTIFIER_HAS_FIELD(m_h, notifier_host, decide) && m_h->decide; }
    // Answers the pending permission request (Message::permission_request) from any thread;
    // message is told to the agent with a deny. false when the host cannot (ABI 1.0) or
    // refused the arguments; a request that is no longer pending is the host's to log.
    bool decide(int64_t request, bool allow, const std::string& message = "") const {
        if (!can_decide()) return false;
        return m_h->decide(m_h->ctx, request, allow ? NOTIFIER_DECISION_ALLOW : NOTIFIER_DECISION_DENY,
                           message.c_str()) == 0;
    }

    // ABI 1.2: whether this host takes answers with who and "always", and says how they went.
    bool can_answer() const { return m_h && NOTIFIER_HAS_FIELD(m_h, notifier_host, answer) && m_h->answer; }
    struct Answer {
        bool allow = false;
        bool always = false;
        std::string message;     // told to the agent with a deny
        std::string who;         // "U0123ABC": recorded as "<plugin>:<who>"
        std::string session_id;  // the message's: a request of another session is refused
    };
    struct Outcome {
        int status = NOTIFIER_ANSWER_INVALID;  // NOTIFIER_ANSWER_*
        std::string reason;                    // a sentence for the person who clicked
        bool decided() const { return status == NOTIFIER_ANSWER_DECIDED; }
    };
    // Blocks until the daemon applied or refused it (about 5 s at most). Never call it
    // from the constructor or destructor (the host's main thread).
    Outcome answer(int64_t request, const Answer& a) const {
        Outcome out;
        if (!can_answer()) {
            out.reason = "this tether cannot take answers (its plugin ABI is older than 1.2)";
            return out;
        }
        notifier_answer abi{};
        abi.abi_major = NOTIFIER_ABI_MAJOR;
        abi.abi_minor = NOTIFIER_ABI_MINOR;
        abi.struct_size = sizeof abi;
        abi.request = request;
        abi.decision = a.allow ? NOTIFIER_DECISION_ALLOW : NOTIFIER_DECISION_DENY;
        abi.always = a.allow && a.always ? 1 : 0;
        abi.message = a.message.c_str();
        abi.who = a.who.c_str();
        abi.session_id = a.session_id.c_str();
        char reason[NOTIFIER_ERROR_MAX] = "";
        out.status = m_h->answer(m_h->ctx, &abi, reason, sizeof reason);
        reason[sizeof reason - 1] = '\0';
        out.reason = reason;
        return out;
    }

private:
    const notifier_host* m_h;
};

// A borrowed view of one message; valid during send only. Fields a host of an older minor
// did not send read as "".
class Message {
public:
    explicit Message(const notifier_message* m) : m_m(m) {}
    const notifier_message& raw() const { return *m_m; }

#define NOTIFIER_SDK_STR(field) \
    std::string_view field() const { return str(NOTIFIER_HAS_FIELD(m_m, notifier_message, field) ? m_m->field : nullptr); }
    NOTIFIER_SDK_STR(idempotency_key)
    NOTIFIER_SDK_STR(rule)
    NOTIFIER_SDK_STR(session_id)
    NOTIFIER_SDK_STR(session_name)
    NOTIFIER_SDK_STR(agent)
    NOTIFIER_SDK_STR(state_from)
    NOTIFIER_SDK_STR(state_to)
    NOTIFIER_SDK_STR(kind)
    NOTIFIER_SDK_STR(title)
    NOTIFIER_SDK_STR(body)
    NOTIFIER_SDK_STR(tool)
    NOTIFIER_SDK_STR(tool_input_json)
    NOTIFIER_SDK_STR(cwd)
    NOTIFIER_SDK_STR(message)
    NOTIFIER_SDK_STR(json_payload)
    NOTIFIER_SDK_STR(always_json)       // ABI 1.2
    NOTIFIER_SDK_STR(session_receipt)   // ABI 1.2
    NOTIFIER_SDK_STR(update_receipt)    // ABI 1.2, update only
    NOTIFIER_SDK_STR(decision)          // ABI 1.2, update only
    NOTIFIER_SDK_STR(decided_by)        // ABI 1.2, update only
    NOTIFIER_SDK_STR(decision_message)  // ABI 1.2, update only
#undef NOTIFIER_SDK_STR

    // ABI 1.2.
    bool maybe_delivered() const {
        return NOTIFIER_HAS_FIELD(m_m, notifier_message, maybe_delivered) && m_m->maybe_delivered != 0;
    }
    int64_t decided_time_ms() const {
        return NOTIFIER_HAS_FIELD(m_m, notifier_message, decided_time_ms) ? m_m->decided_time_ms : 0;
    }
    bool decided_always() const {
        return NOTIFIER_HAS_FIELD(m_m, notifier_message, decided_always) && m_m->decided_always != 0;
    }
    // Hands the host a receipt for this delivery (ABI 1.2); false when the host offers no
    // buffer or text does not fit (nothing is written then). Never a secret: it is logged.
    bool set_receipt(std::string_view text) const {
        if (!NOTIFIER_HAS_FIELD(m_m, notifier_message, receipt_size) || !m_m->receipt) return false;
        if (text.size() + 1 > m_m->receipt_size) return false;
        std::memcpy(m_m->receipt, text.data(), text.size());
        m_m->receipt[text.size()] = '\0';
        return true;
    }

    // ABI 1.1: the pending permission request to pass to Host::decide, or 0.
    int64_t permission_request() const {
        return NOTIFIER_HAS_FIELD(m_m, notifier_message, permission_request) ? m_m->permission_request : 0;
    }
    unsigned attempt() const { return m_m->attempt; }
    int64_t time_ms() const { return m_m->time_ms; }
    Options rule_options() const { return Options(m_m->rule_options, m_m->rule_options_len); }

private:
    static std::string_view str(const char* s) { return s ? std::string_view(s) : std::string_view(); }
    const notifier_message* m_m;
};

namespace detail {

inline void put_error(char* err, size_t errlen, const char* text) {
    if (!err || errlen == 0) return;
    size_t n = std::strlen(text);
    if (n >= errlen) n = errlen - 1;
    std::memcpy(err, text, n);
    err[n] = '\0';
}

template <typename Plugin>
struct Adapter {
    static void* create(const notifier_host* host, const notifier_kv* opts, size_t n, char* err,
                        size_t errlen) noexcept {
        try {
            return new Plugin(Host(host), Options(opts, n));
        } catch (const std::exception& e) {
            put_error(err, errlen, e.what());
        } catch (...) {
            put_error(err, errlen, "create failed: unknown exception");
        }
        return nullptr;
    }

    // send and update: a Retry or out of memory is worth another attempt, any other
    // exception is final; none crosses the C ABI.
    template <typename Call>
    static int deliver(Call call, const char* what, char* err, size_t errlen) noexcept {
        try {
            call();
            return NOTIFIER_OK;
        } catch (const Retry& e) {
            put_error(err, errlen, e.what());
            return NOTIFIER_RETRY;
        } catch (const std::bad_alloc&) {
            put_error(err, errlen, "out of memory");
            return NOTIFIER_RETRY;
        } catch (const std::exception& e) {
            put_error(err, errlen, e.what());
        } catch (...) {
            put_error(err, errlen, (std::string(what) + " failed: unknown exception").c_str());
        }
        return NOTIFIER_FAIL;
    }

    static int send(void* self, const notifier_message* m, char* err, size_t errlen) noexcept {
        return deliver([&] { static_cast<Plugin*>(self)->send(Message(m)); }, "send", err, errlen);
    }

    static int update(void* self, const notifier_message* m, char* err, size_t errlen) noexcept {
        return deliver([&] { static_cast<Plugin*>(self)->update(Message(m)); }, "update", err, errlen);
    }

    static void destroy(void* self) noexcept {
        try {
            delete static_cast<Plugin*>(self);
        } catch (...) {
        }
    }
};

// Whether Plugin has `update(const Message&)`: the ABI's update is set only then.
template <typename Plugin, typename = void>
struct has_update : std::false_type {};
template <typename Plugin>
struct has_update<Plugin, std::void_t<decltype(std::declval<Plugin&>().update(std::declval<const Message&>()))>>
    : std::true_type {};

template <typename Plugin>
constexpr auto update_entry() -> int (*)(void*, const notifier_message*, char*, size_t) {
    if constexpr (has_update<Plugin>::value) return &Adapter<Plugin>::update;
    else return nullptr;
}

}  // namespace detail
}  // namespace notifier_sdk

// Exports notifier_plugin_entry for class Class. Use once per plugin, at namespace scope.
#define NOTIFIER_PLUGIN(Class, plugin_name, plugin_description)                          \
    extern "C" NOTIFIER_EXPORT const notifier_plugin* notifier_plugin_entry(void) {      \
        static const notifier_plugin plugin = {                                          \
            NOTIFIER_ABI_MAJOR,                                                          \
            NOTIFIER_ABI_MINOR,                                                          \
            sizeof(notifier_plugin),                                                     \
            plugin_name,                                                                 \
            plugin_description,                                                          \
            &notifier_sdk::detail::Adapter<Class>::create,                               \
            &notifier_sdk::detail::Adapter<Class>::send,                                 \
            &notifier_sdk::detail::Adapter<Class>::destroy,                              \
            notifier_sdk::detail::update_entry<Class>(),                                 \
        };                                                                               \
        return &plugin;                                                                  \
    }
