/* Small helpers the addon's files share. */
#ifndef DROPLET_NAPI_UTIL_H
#define DROPLET_NAPI_UTIL_H
#include <node_api.h>
#include <stdio.h>
#include <string.h>

/* Throws "what: strerror(err)" and returns NULL, for `return throw_errno(...)`. */
static inline napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

#endif
