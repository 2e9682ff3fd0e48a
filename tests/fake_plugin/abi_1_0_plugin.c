/* tether-notifier-abi-1-0: a plugin written for ABI 1.0, which a newer host must still
 * load and serve. It declares minor 0, reads no field a later minor appended, and
 * appends each message's title to the file option. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifier_abi.h"

static void *create(const notifier_host *h, const notifier_kv *o, size_t n, char *err, size_t errlen) {
    size_t i;
    (void)h;
    for (i = 0; i < n; ++i)
        if (strcmp(o[i].key, "file") == 0) {
            /* Options are borrowed for the call: keep a copy. */
            char *file = malloc(strlen(o[i].value) + 1);
            if (file) strcpy(file, o[i].value);
            return file;
        }
    snprintf(err, errlen, "bad options: file is required");
    return NULL;
}

static int send(void *self, const notifier_message *m, char *err, size_t errlen) {
    FILE *f = fopen((const char *)self, "a");
    if (!f) {
        snprintf(err, errlen, "cannot open %s", (const char *)self);
        return NOTIFIER_RETRY;
    }
    fprintf(f, "%s\n", m->title);
    fclose(f);
    return NOTIFIER_OK;
}

static void destroy(void *self) { free(self); }

const notifier_plugin *notifier_plugin_entry(void) {
    static const notifier_plugin plugin = {1, 0, offsetof(notifier_plugin, destroy) + sizeof(void (*)(void *)),
                                           "abi-1-0", "a plugin of ABI 1.0", create, send, destroy,
                                           NULL /* update: not in 1.0, and past struct_size */};
    return &plugin;
}
