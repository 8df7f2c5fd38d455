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

/* The single int32 argument of a call; throws a TypeError showing usage when it is missing. */
static inline int one_int_arg(napi_env env, napi_callback_info info, int32_t *out, const char *usage) {
  size_t argc = 1;
  napi_value arg;
  napi_get_cb_info(env, info, &argc, &arg, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, arg, out) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return 0;
  }
  return 1;
}

#endif
