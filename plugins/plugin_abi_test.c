/* Compiled as strict C99 (-pedantic-errors) to prove notifier_abi.h is C, and run as a
 * ctest: a C plugin can fill and read every struct, and the layout is the frozen one. */
#include "notifier_abi.h"

#include <stdio.h>
#include <string.h>

/* The v1.0 layouts on LP64: appending fields may grow these, never reorder them. */
#if defined(__LP64__)
typedef char check_kv[sizeof(notifier_kv) == 16 ? 1 : -1];
typedef char check_host[offsetof(notifier_host, event) == 32 ? 1 : -1];
typedef char check_plugin[offsetof(notifier_plugin, destroy) == 48 ? 1 : -1];
typedef char check_message[offsetof(notifier_message, rule_options_len) == 160 ? 1 : -1];
#endif

static void *demo_create(const notifier_host *h, const notifier_kv *opts, size_t n, char *err, size_t errlen) {
    (void)h;
    if (n == 0 || strcmp(opts[0].key, "url") != 0) {
        snprintf(err, errlen, "bad options: url is required");
        return NULL;
    }
    return (void *)opts[0].value;
}

static int demo_send(void *self, const notifier_message *m, char *err, size_t errlen) {
    if (!NOTIFIER_HAS_FIELD(m, notifier_message, json_payload)) return NOTIFIER_FAIL;
    snprintf(err, errlen, "%s <- %s", (const char *)self, m->title);
    return m->attempt < 2 ? NOTIFIER_RETRY : NOTIFIER_OK;
}

static void demo_destroy(void *self) { (void)self; }

const notifier_plugin *notifier_plugin_entry(void) {
    static const notifier_plugin plugin = {NOTIFIER_ABI_MAJOR, NOTIFIER_ABI_MINOR, sizeof(notifier_plugin),
                                           "demo", "a C plugin", demo_create, demo_send, demo_destroy};
    return &plugin;
}

int main(void) {
    const notifier_plugin *p = notifier_plugin_entry();
    notifier_kv opt = {"url", "http://x"};
    char err[NOTIFIER_ERROR_MAX] = "";
    void *self;
    notifier_message m;
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
    rc = p->send(self, &m, err, sizeof err);
    p->destroy(self);
    if (rc != NOTIFIER_RETRY || strcmp(err, "http://x <- hello") != 0) {
        fprintf(stderr, "plugin_abi_test: send returned %d: %s\n", rc, err);
        return 1;
    }
    return 0;
}
