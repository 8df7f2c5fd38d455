/* process.terminal: a pty made inside the container (its own devpts), the slave as the
 * init's stdio, controlling terminal and /dev/console, the master sent to --console-socket
 * with SCM_RIGHTS, as runc does (conmon and containerd read it there). */
#ifndef DROPLET_CONSOLE_H
#define DROPLET_CONSOLE_H
#include "plan.h"

void console_setup(long rec, const struct record *r);
/* exec: connect to the console socket before the container's mount namespace hides it. */
void console_connect_early(long rec, const struct record *r);

#endif
