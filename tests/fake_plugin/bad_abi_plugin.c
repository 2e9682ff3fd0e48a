/* tether-notifier-bad-abi: a plugin that claims ABI 2.0, which the host must refuse by
 * name before calling anything else in it. */
#include "notifier_abi.h"

static void *never_create(const notifier_host *h, const notifier_kv *o, size_t n, char *err, size_t errlen) {
    (void)h, (void)o, (void)n, (void)err, (void)errlen;
    return 0;
}
static int never_send(void *self, const notifier_message *m, char *err, size_t errlen) {
    (void)self, (void)m, (void)err, (void)errlen;
    return NOTIFIER_FAIL;
}
static void never_destroy(void *self) { (void)self; }

const notifier_plugin *notifier_plugin_entry(void) {
    static const notifier_plugin plugin = {NOTIFIER_ABI_MAJOR + 1, 0, sizeof(notifier_plugin), "bad-abi",
                                           "claims a future ABI", never_create, never_send, never_destroy, 0};
    return &plugin;
}
