/* Small helpers the addon's files share. */
#ifndef DROPLET_NAPI_UTIL_H
#define DROPLET_NAPI_UTIL_H
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

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

/* A malloc'd copy of a JS string (its length in *len_out, if given); NULL on failure. */
static inline char *string_of(napi_env env, napi_value v, size_t *len_out) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (s && napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok) {
    free(s);
    return NULL;
  }
  if (len_out) *len_out = len;
  return s;
}

static inline void free_strings(char **a) {
  for (size_t i = 0; a && a[i]; i++) free(a[i]);
  free(a);
}

/* A NULL-terminated copy of a JS array of strings. */
static inline char **strings_of(napi_env env, napi_value arr) {
  uint32_t n = 0;
  if (napi_get_array_length(env, arr, &n) != napi_ok) return NULL;
  char **out = calloc(n + 1, sizeof *out);
  for (uint32_t i = 0; out && i < n; i++) {
    napi_value el;
    napi_get_element(env, arr, i, &el);
    if (!(out[i] = string_of(env, el, NULL))) {
      free_strings(out);
      return NULL;
    }
  }
  return out;
}

/* The one argument of fn(path) as a unix socket address; false (a TypeError thrown) when it
 * is missing or does not fit sun_path. */
static inline int unix_address_arg(napi_env env, napi_callback_info info, struct sockaddr_un *addr, const char *usage) {
  size_t argc = 1;
  napi_value arg;
  napi_get_cb_info(env, info, &argc, &arg, NULL, NULL);
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, arg, addr->sun_path, sizeof addr->sun_path, &len) != napi_ok ||
      len >= sizeof addr->sun_path - 1) {
    napi_throw_type_error(env, NULL, usage);
    return 0;
  }
  return 1;
}
#endif
