/* Compiled as strict C99 (-pedantic-errors) to prove notifier_abi.h is C, and run as a
 * ctest: a C plugin can fill and read every struct, the layout is the frozen one, and a
 * reader tells a 1.0 struct from a 1.1 or 1.2 one by its struct_size. */
#include "notifier_abi.h"

#include <stdio.h>
#include <string.h>

/* The layouts on LP64: appending fields may grow these, never reorder them. */
#if defined(__LP64__)
typedef char check_kv[sizeof(notifier_kv) == 16 ? 1 : -1];
typedef char check_host[offsetof(notifier_host, event) == 32 ? 1 : -1];
typedef char check_plugin[offsetof(notifier_plugin, destroy) == 48 ? 1 : -1];
typedef char check_message[offsetof(notifier_message, rule_options_len) == 160 ? 1 : -1];
/* 1.1 */
typedef char check_host_decide[offsetof(notifier_host, decide) == 40 ? 1 : -1];
typedef char check_message_request[offsetof(notifier_message, permission_request) == 168 ? 1 : -1];
/* 1.2 */
typedef char check_host_answer[offsetof(notifier_host, answer) == 48 ? 1 : -1];
typedef char check_plugin_update[offsetof(notifier_plugin, update) == 56 ? 1 : -1];
typedef char check_message_always[offsetof(notifier_message, always_json) == 176 ? 1 : -1];
typedef char check_message_receipt[offsetof(notifier_message, receipt) == 200 ? 1 : -1];
typedef char check_message_decided[offsetof(notifier_message, decided_always) == 256 ? 1 : -1];
typedef char check_answer[offsetof(notifier_answer, session_id) == 48 && sizeof(notifier_answer) == 56 ? 1 : -1];
#endif

/* What a 1.0 writer (host or plugin) put in struct_size. */
#define MESSAGE_SIZE_1_0 (offsetof(notifier_message, rule_options_len) + sizeof(size_t))
#define HOST_SIZE_1_0 (offsetof(notifier_host, event) + sizeof(void (*)(void)))
/* What a 1.1 writer put there. */
#define MESSAGE_SIZE_1_1 (offsetof(notifier_message, permission_request) + sizeof(int64_t))
#define HOST_SIZE_1_1 (offsetof(notifier_host, decide) + sizeof(void (*)(void)))
#define PLUGIN_SIZE_1_1 (offsetof(notifier_plugin, destroy) + sizeof(void (*)(void)))

static long long decided_request;
static int decided_as;

static int demo_decide(void *ctx, int64_t request, int decision, const char *message) {
    (void)ctx, (void)message;
    if (request <= 0) return -1;
    decided_request = request;
    decided_as = decision;
    return 0;
}

static long long answered_request;
static const char *answered_who;

static int demo_answer(void *ctx, const notifier_answer *a, char *reason, size_t reasonlen) {
    (void)ctx;
    if (!NOTIFIER_HAS_FIELD(a, notifier_answer, session_id) || a->request <= 0) return NOTIFIER_ANSWER_INVALID;
    answered_request = a->request;
    answered_who = a->who;
    snprintf(reason, reasonlen, "request %lld is not pending", (long long)a->request);
    return a->always ? NOTIFIER_ANSWER_DECIDED : NOTIFIER_ANSWER_NOT_PENDING;
}

static void *demo_create(const notifier_host *h, const notifier_kv *opts, size_t n, char *err, size_t errlen) {
    (void)h;
    if (n == 0 || strcmp(opts[0].key, "url") != 0) {
        snprintf(err, errlen, "bad options: url is required");
        return NULL;
    }
    return (void *)opts[0].value;
}

static int demo_send(void *self, const notifier_message *m, char *err, size_t errlen) {
    long long request = NOTIFIER_HAS_FIELD(m, notifier_message, permission_request) ? (long long)m->permission_request : -1;
    if (!NOTIFIER_HAS_FIELD(m, notifier_message, json_payload)) return NOTIFIER_FAIL;
    snprintf(err, errlen, "%s <- %s (request %lld)", (const char *)self, m->title, request);
    return m->attempt < 2 ? NOTIFIER_RETRY : NOTIFIER_OK;
}

/* Writes a receipt only where the host offers the buffer (1.2). */
static int demo_update(void *self, const notifier_message *m, char *err, size_t errlen) {
    (void)self;
    if (!NOTIFIER_HAS_FIELD(m, notifier_message, decided_always)) {
        snprintf(err, errlen, "update needs a 1.2 message");
        return NOTIFIER_FAIL;
    }
    snprintf(m->receipt, m->receipt_size, "edited %s", m->update_receipt);
    snprintf(err, errlen, "%s by %s", m->decision, m->decided_by);
    return NOTIFIER_OK;
}

static void demo_destroy(void *self) { (void)self; }

const notifier_plugin *notifier_plugin_entry(void) {
    static const notifier_plugin plugin = {NOTIFIER_ABI_MAJOR, NOTIFIER_ABI_MINOR, sizeof(notifier_plugin),
                                           "demo", "a C plugin", demo_create, demo_send, demo_destroy,
                                           demo_update};
    return &plugin;
}

static int expect(int ok, const char *what, const char *err) {
    if (!ok) fprintf(stderr, "plugin_abi_test: %s: %s\n", what, err);
    return ok;
}

/* ABI 1.2: answer, update and the receipt buffer, on the host and message of main. */
static int check_1_2(const notifier_plugin *p, void *self, notifier_message *m, notifier_host *h) {
    char err[NOTIFIER_ERROR_MAX] = "";
    char receipt[NOTIFIER_RECEIPT_MAX] = "";
    notifier_answer a;
    int rc;

    /* 1.2: answer is there only in a host that wrote a 1.2 struct. */
    h->struct_size = (uint32_t)HOST_SIZE_1_1;
    if (!expect(!NOTIFIER_HAS_FIELD(h, notifier_host, answer), "1.1 host", "claims answer")) return 0;
    h->struct_size = sizeof *h;
    h->answer = demo_answer;
    memset(&a, 0, sizeof a);
    a.abi_major = NOTIFIER_ABI_MAJOR;
    a.abi_minor = NOTIFIER_ABI_MINOR;
    a.struct_size = sizeof a;
    a.request = 9;
    a.decision = NOTIFIER_DECISION_ALLOW;
    a.who = "U0123ABC";
    a.session_id = "3";
    rc = h->answer(h->ctx, &a, err, sizeof err);
    if (!expect(rc == NOTIFIER_ANSWER_NOT_PENDING && answered_request == 9 && strcmp(answered_who, "U0123ABC") == 0 &&
                    strcmp(err, "request 9 is not pending") == 0,
                "answer", err))
        return 0;

    /* 1.2: a plugin's update, and the receipt buffer a 1.2 message offers. */
    if (!expect(NOTIFIER_HAS_FIELD(p, notifier_plugin, update) && p->update, "1.2 plugin", "lacks update")) return 0;
    if (!expect(PLUGIN_SIZE_1_1 < sizeof(notifier_plugin), "1.1 plugin size", "not smaller")) return 0;
    m->abi_minor = NOTIFIER_ABI_MINOR;
    m->struct_size = sizeof *m;
    m->receipt = receipt;
    m->receipt_size = sizeof receipt;
    m->update_receipt = "{\"ts\":\"1.2\"}";
    m->decision = "allow";
    m->decided_by = "slack:U0123ABC";
    rc = p->update(self, m, err, sizeof err);
    if (!expect(rc == NOTIFIER_OK && strcmp(err, "allow by slack:U0123ABC") == 0 &&
                    strcmp(receipt, "edited {\"ts\":\"1.2\"}") == 0,
                "update", err))
        return 0;
    m->struct_size = (uint32_t)MESSAGE_SIZE_1_1;
    rc = p->update(self, m, err, sizeof err);
    if (!expect(rc == NOTIFIER_FAIL && !NOTIFIER_HAS_FIELD(m, notifier_message, receipt), "update 1.1", err)) return 0;
    return 1;
}

int main(void) {
    const notifier_plugin *p = notifier_plugin_entry();
    notifier_kv opt = {"url", "http://x"};
    char err[NOTIFIER_ERROR_MAX] = "";
    void *self;
    notifier_message m;
    notifier_host h;
    int rc;

    if (p->create(NULL, NULL, 0, err, sizeof err) != NULL || strcmp(err, "bad options: url is required") != 0) {
        fprintf(stderr, "plugin_abi_test: create without options: %s\n", err);
        return 1;
    }
    self = p->create(NULL, &opt, 1, err, sizeof err);
    memset(&m, 0, sizeof m);
    m.abi_major = NOTIFIER_ABI_MAJOR;
    m.abi_minor = NOTIFIER_ABI_MINOR;
    m.struct_size = sizeof m;
    m.title = "hello";
    m.attempt = 1;
    m.permission_request = 42;
    rc = p->send(self, &m, err, sizeof err);
    if (!expect(rc == NOTIFIER_RETRY && strcmp(err, "http://x <- hello (request 42)") == 0, "send 1.1", err)) return 1;

    /* A 1.0 host's message ends before permission_request. */
    m.abi_minor = 0;
    m.struct_size = (uint32_t)MESSAGE_SIZE_1_0;
    m.attempt = 2;
    rc = p->send(self, &m, err, sizeof err);
    if (!expect(rc == NOTIFIER_OK && strcmp(err, "http://x <- hello (request -1)") == 0, "send 1.0", err)) return 1;

    /* A host's decide is there only from 1.1 on. */
    memset(&h, 0, sizeof h);
    h.struct_size = (uint32_t)HOST_SIZE_1_0;
    if (!expect(!NOTIFIER_HAS_FIELD(&h, notifier_host, decide), "1.0 host", "claims decide")) return 1;
    h.struct_size = sizeof h;
    h.decide = demo_decide;
    if (!expect(NOTIFIER_HAS_FIELD(&h, notifier_host, decide), "1.1 host", "lacks decide")) return 1;
    rc = h.decide(h.ctx, 7, NOTIFIER_DECISION_DENY, "no");
    if (!expect(rc == 0 && decided_request == 7 && decided_as == NOTIFIER_DECISION_DENY, "decide", "not called")) return 1;

    if (!check_1_2(p, self, &m, &h)) return 1;
    p->destroy(self);
    return 0;
}
