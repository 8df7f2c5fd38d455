/* The container process's identity and limits: rlimits, capabilities, user and groups,
 * no_new_privs, cwd, and the executable looked up in the container's PATH. */
#ifndef DROPLET_PROCESS_H
#define DROPLET_PROCESS_H
#include "plan.h"

void proc_rlimit(long rec, const struct record *r);
void proc_caps(long rec, const struct record *r);
void proc_user(long rec, const struct record *r);
void proc_no_new_privs(long rec);
void proc_cwd(long rec, const struct record *r);
/* Resolves the executable; proc_exec then runs it. */
void proc_prepare_exec(long rec, const struct record *r);
void proc_personality(long rec, const struct record *r);
void proc_ioprio(long rec, const struct record *r);
void proc_scheduler(long rec, const struct record *r);
/* Writes a value to a /proc file: a sysctl (/proc/sys shows the writer's namespaces, so the
 * init's own) or an LSM label for the next exec (/proc/self/attr). */
void proc_write_file(long rec, const struct record *r);
/* A new session keyring named after the container, searchable by its user (as runc). */
void proc_keyring(long rec, const struct record *r);
/* The seccomp filter: loaded now when the process still has CAP_SYS_ADMIN, or, with
 * no_new_privs, kept for proc_seccomp_late, the init's last step before it reports ready
 * (as runc does). The payload is what a SCMP_ACT_NOTIFY listener receives with its fd. */
void proc_seccomp(long rec, const struct record *r, const char *listener_payload);
void proc_seccomp_late(void);
/* Connects to the notify listener while its path is still visible (before pivot_root). */
void proc_seccomp_connect(long rec, const struct record *r);
_Noreturn void proc_exec(void);

#endif
