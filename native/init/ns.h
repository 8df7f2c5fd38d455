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
/* A new time namespace for the launcher's children, with the offsets set before any enters. */
void ns_time_offsets(long rec, const char *offsets);
/* After the host wrote the id maps: uid and gid 0 of the new user namespace. */
void ns_become_root(long rec);

#endif
