/* Namespaces: joining existing ones by path, and the settings of new uts and net ones. */
#ifndef DROPLET_NS_H
#define DROPLET_NS_H
#include "plan.h"

/* Opens the namespace file now: paths are resolved before any setns changes the view. */
void ns_open_join(long rec, const struct record *r);
/* setns into every opened namespace, in plan order. */
void ns_join_all(void);
void ns_hostname(long rec, const struct record *r, int domain);
void ns_loopback_up(long rec);

#endif
