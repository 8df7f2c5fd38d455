/* The hooks the init runs in the container's namespaces: createContainer (before
 * pivot_root, path resolved in the runtime's mount view) and startContainer (after the start
 * byte, path resolved in the container). Each gets the state JSON droplet sent with the go
 * on stdin, its args and env, and is killed at its timeout. */
#ifndef DROPLET_HOOKS_H
#define DROPLET_HOOKS_H
#include "plan.h"

/* 0 if the hook succeeded, else a message in why. */
int hook_run(const struct record *r, const char *state, char *why, size_t size);
int hook_phase(const struct record *r);

#endif
