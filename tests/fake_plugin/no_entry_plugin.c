/* tether-notifier-no-entry: a shared library without notifier_plugin_entry, which the host
 * must refuse naming the missing symbol. */
int tether_not_a_notifier(void);
int tether_not_a_notifier(void) { return 0; }
