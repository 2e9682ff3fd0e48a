/* The notifier plugin ABI: the only thing tetherd and a notifier plugin share. Pure C99.
 * A plugin is a shared library (tether-notifier-<name>.so) that exports one symbol,
 * notifier_plugin_entry. C++ authors use notifier_sdk.hpp instead of writing this by hand.
 *
 * Versioning: the host loads a plugin only if its abi_major equals NOTIFIER_ABI_MAJOR and
 * its abi_minor is <= the host's. Structs are never reordered; new fields are only ever
 * appended, with a minor bump. Every struct starts with abi_major, abi_minor, struct_size
 * (sizeof as its writer compiled it): a reader checks struct_size before reading a field
 * that a newer minor appended (NOTIFIER_HAS_FIELD).
 *
 * History. 1.0: the first version. 1.1 appends notifier_message.permission_request and
 * notifier_host.decide, so a notification can answer the permission request it shows
 * (e.g. a desktop notification's Approve button). A 1.0 plugin loads unchanged: it never
 * reads the appended fields. A 1.1 plugin checks NOTIFIER_HAS_FIELD before using them,
 * because a host may fill the structs of an older minor.
 * 1.2 lets a plugin answer from a chat and keep its messages true: notifier_host.answer
 * (a decision with who gave it and "always", whose outcome the plugin learns at once, so
 * a stale click can say so), notifier_plugin.update (the host tells the plugin that a
 * request one of its messages showed was decided, wherever that happened), and, appended
 * to notifier_message, what both need: always_json, a receipt that send and update may
 * write (the host records it in the log and hands it back: session_receipt in later
 * messages of the session, update_receipt in updates), maybe_delivered, and the outcome
 * fields of an update. The host calls update only for a plugin that declares 1.2 and
 * sets it; 1.0 and 1.1 plugins load and behave as before.
 *
 * Memory: strings are UTF-8, NUL-terminated, and borrowed for the length of one call;
 * copy what you keep. Neither side frees the other's memory. Errors are an int plus text
 * written into the caller's buffer (always NUL-terminated, truncated to errlen).
 *
 * Threads: create and destroy are called on the host's main thread. send (and update) is
 * called on worker threads, possibly concurrently for the same instance: guard shared
 * state. A send that exceeds the host's timeout is reported as a retryable failure while
 * the call is left to finish on its own thread; destroy is called only after every send
 * on that instance has returned (on whichever thread the last one ran). A plugin may run
 * threads of its own (a listener for clicks); destroy must stop and join them. No exception, longjmp or
 * signal may leave a plugin function. */
#ifndef TETHER_NOTIFIER_ABI_H
#define TETHER_NOTIFIER_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NOTIFIER_ABI_MAJOR 1
#define NOTIFIER_ABI_MINOR 2

/* send() results. */
#define NOTIFIER_OK 0
#define NOTIFIER_RETRY 1 /* transient (network down, HTTP 5xx, rate limit): try again later */
#define NOTIFIER_FAIL 2  /* permanent (HTTP 4xx, bad message): do not retry */

/* The size of the error buffers the host passes; plugins must still honour errlen. */
#define NOTIFIER_ERROR_MAX 1024

/* Log levels for notifier_host.log. */
#define NOTIFIER_LOG_DEBUG 0
#define NOTIFIER_LOG_INFO 1
#define NOTIFIER_LOG_WARN 2
#define NOTIFIER_LOG_ERROR 3

/* Decisions for notifier_host.decide (ABI 1.1). */
#define NOTIFIER_DECISION_ALLOW 1
#define NOTIFIER_DECISION_DENY 2

/* notifier_host.answer results (ABI 1.2). */
#define NOTIFIER_ANSWER_DECIDED 0     /* it was pending and is decided now: the agent has the answer */
#define NOTIFIER_ANSWER_NOT_PENDING 1 /* nothing decided: answered elsewhere, timed out, gone with a
                                         restart, or not this session's; the reason says which */
#define NOTIFIER_ANSWER_UNCONFIRMED 2 /* handed over, but the daemon did not confirm in time; it may
                                         still apply it, and update tells the outcome */
#define NOTIFIER_ANSWER_INVALID (-1)  /* bad arguments, or called on the host's main thread */

/* The size of the receipt buffer the host passes in notifier_message (ABI 1.2). */
#define NOTIFIER_RECEIPT_MAX 512

/* True when the struct at p (with a struct_size member) contains member field. */
#define NOTIFIER_HAS_FIELD(p, type, field) \
    ((p)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* One option: a flat key/value pair of strings (no nesting; numbers are text). */
typedef struct notifier_kv {
    const char *key;
    const char *value;
} notifier_kv;

/* A person's answer to a pending permission request, for notifier_host.answer (ABI 1.2).
 * The writer sets struct_size; the host reads only the fields it covers. */
typedef struct notifier_answer {
    uint32_t abi_major, abi_minor, struct_size;
    int64_t request;  /* a message's permission_request */
    int decision;     /* NOTIFIER_DECISION_ALLOW or _DENY */
    uint32_t always;  /* with ALLOW: also accept what the agent offers to remember (the message's
                         always_json), as its own "always allow" would */
    const char *message;    /* told to the agent with a deny; NULL or "" for none */
    const char *who;        /* who answered, in the channel's terms ("U0123ABC", "456"): the daemon
                               records "<plugin name>:<who>". Letters, digits and -_.@, at most 64 */
    const char *session_id; /* the message's session_id: a request of another session is refused
                               (NULL or "": not checked) */
} notifier_answer;

/* What the host offers a plugin. Valid from create until destroy returns. The callbacks
 * may be called from any thread, including from inside create and send. */
typedef struct notifier_host {
    uint32_t abi_major, abi_minor, struct_size;
    void *ctx; /* pass back as the first argument of the callbacks */
    /* A line for the daemon's diagnostic log. Never pass secrets. */
    void (*log)(void *ctx, int level, const char *text);
    /* A condition the daemon records as an event and may show the user, e.g.
     * code "no_audio_device", text "no ALSA device; sounds are silent". */
    void (*event)(void *ctx, const char *code, const char *text);
    /* ABI 1.1. Answers the pending permission request `request` (a message's
     * permission_request) on the user's behalf, as `tether approve` / `tether deny` would:
     * the daemon records the notifier's name as the decider and the waiting agent gets the
     * answer. decision: NOTIFIER_DECISION_ALLOW or _DENY; message: told to the agent with a
     * deny (NULL or "" for none). Any thread, e.g. the plugin's own listener; returns at
     * once, the decision is applied later on the daemon's loop thread. A request that is
     * no longer pending (decided elsewhere, timed out, the agent moved on) is ignored and
     * logged: a late click is harmless. Returns 0 when handed over, -1 for a bad argument
     * (request <= 0 or an unknown decision). */
    int (*decide)(void *ctx, int64_t request, int decision, const char *message);
    /* ABI 1.2. Answers a pending permission request like decide, recording who answered
     * (answer->who) and "always", and waits until the daemon's loop has applied or refused
     * it (about 5 s at most, then NOTIFIER_ANSWER_UNCONFIRMED). Returns a NOTIFIER_ANSWER_*
     * code, with a sentence for the person in reason (e.g. "request 42 was already answered:
     * allow by cli at 12:03:04"; always NUL-terminated, truncated to reasonlen). Call it from
     * the plugin's own threads or from send/update, never from create or destroy (the host's
     * main thread: NOTIFIER_ANSWER_INVALID). */
    int (*answer)(void *ctx, const notifier_answer *answer, char *reason, size_t reasonlen);
} notifier_host;

/* One notification to deliver. Every string member is non-NULL ("" when absent). */
typedef struct notifier_message {
    uint32_t abi_major, abi_minor, struct_size;
    const char *idempotency_key; /* the same on every attempt (the queued event's seq) */
    uint32_t attempt;            /* 1 on the first try */
    int64_t time_ms;             /* when the notification was raised, unix milliseconds */
    const char *rule;            /* name of the rule that matched */
    const char *session_id;
    const char *session_name;
    const char *agent;      /* "claude", "codex", ... */
    const char *state_from; /* the agent state transition that caused it */
    const char *state_to;
    const char *kind; /* "permission", "question", "done", "error", "idle", ... */
    const char *title;
    const char *body;
    const char *tool;            /* for permission: the tool asking */
    const char *tool_input_json; /* its input as JSON text, or "" */
    const char *cwd;
    const char *message;      /* the agent's own words, when it gave any */
    const char *json_payload; /* every other field as one JSON object, for forwarders */
    const notifier_kv *rule_options; /* per-rule options, e.g. sound file or volume */
    size_t rule_options_len;
    /* ABI 1.1. kind "permission": the pending request this notification asks about, to pass
     * to notifier_host.decide; 0 when there is none to answer (a rule already answered it,
     * or the agent asked without waiting for an answer). 0 for every other kind. */
    int64_t permission_request;
    /* ABI 1.2. */
    const char *always_json;     /* with permission_request: what the agent offers to remember
                                    (its first permission suggestion), JSON; "" when it offers
                                    nothing, so an "Always" button has nothing to accept */
    const char *session_receipt; /* the receipt of this notifier's latest delivery in this session,
                                    "" for none; kept in the log, so it survives a restart (e.g. a
                                    thread to continue) */
    uint32_t maybe_delivered;    /* nonzero when an earlier attempt of this message may have reached
                                    the receiver (this is a retry, or a redelivery after a restart):
                                    look before posting again where the receiver can tell */
    char *receipt;               /* send and update may write a NUL-terminated text here (at most
                                    receipt_size bytes, NOTIFIER_RECEIPT_MAX) that identifies what was
                                    delivered, e.g. Slack's channel and ts. The host records it with
                                    the delivery in the event log: never a secret */
    size_t receipt_size;
    /* update only ("" and 0 in send): the outcome of permission_request. */
    const char *update_receipt;   /* the receipt the delivery being updated returned */
    const char *decision;         /* "allow", "deny", or "ask" (nobody answered through tether:
                                     timed out, or the agent moved on; it asked in its terminal) */
    const char *decided_by;       /* "cli", "ui", "rule:NAME", "notifier:NAME", "slack:U123",
                                     "telegram:456", "timeout", "agent", ... */
    const char *decision_message; /* the message a deny carried, or "" */
    int64_t decided_time_ms;      /* when it was decided, unix milliseconds */
    uint32_t decided_always;      /* allowed with "always" */
} notifier_message;

/* The plugin's description of itself, returned by notifier_plugin_entry. Static storage. */
typedef struct notifier_plugin {
    uint32_t abi_major, abi_minor, struct_size; /* NOTIFIER_ABI_*, sizeof(notifier_plugin) */
    const char *name;        /* "webhook": matches tether-notifier-<name>.so */
    const char *description; /* one line */
    /* Returns an instance, or NULL with the reason in err (e.g. "bad options: url is
     * required"). host stays valid until destroy returns. */
    void *(*create)(const notifier_host *host, const notifier_kv *opts, size_t n_opts, char *err,
                    size_t errlen);
    /* NOTIFIER_OK, or NOTIFIER_RETRY / NOTIFIER_FAIL with the reason in err. */
    int (*send)(void *self, const notifier_message *m, char *err, size_t errlen);
    void (*destroy)(void *self);
    /* ABI 1.2, optional (NULL: this plugin does not revise what it showed). Called like send
     * (worker threads, the same timeout and results) once for each delivery of this plugin
     * that showed a permission request and returned a receipt, after that request was
     * decided, by anyone, anywhere: m carries the original message's fields, update_receipt
     * and the outcome (decision, decided_by, ...), so a chat message can say who decided
     * what, even after a restart. Retried by the host like a send. */
    int (*update)(void *self, const notifier_message *m, char *err, size_t errlen);
} notifier_plugin;

typedef const notifier_plugin *(*notifier_plugin_entry_fn)(void);

#if defined(__GNUC__)
#define NOTIFIER_EXPORT __attribute__((visibility("default")))
#else
#define NOTIFIER_EXPORT
#endif

/* The one exported symbol. Build plugins with -fvisibility=hidden. */
NOTIFIER_EXPORT const notifier_plugin *notifier_plugin_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* TETHER_NOTIFIER_ABI_H */
