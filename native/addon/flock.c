/* The per-container lock: flock(2) on <root>/<id>/.lock. The kernel drops it when its holder
 * exits, however it exits, so a droplet killed while holding it never blocks the container.
 *
 * tryFlock(fd, exclusive) -> true when taken, false when another open file holds it; never
 *   waits (droplet polls, with a deadline). Closing the fd releases it. */
#define _GNU_SOURCE
#include "napi_util.h"
#include <errno.h>
#include <node_api.h>
#include <sys/file.h>

static napi_value try_flock(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t fd;
  bool exclusive;
  if (argc < 2 || napi_get_value_int32(env, args[0], &fd) != napi_ok || napi_get_value_bool(env, args[1], &exclusive) != napi_ok) {
    napi_throw_type_error(env, NULL, "tryFlock(fd, exclusive)");
    return NULL;
  }
  int rc;
  do rc = flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
  while (rc < 0 && errno == EINTR);
  if (rc < 0 && errno != EWOULDBLOCK) return throw_errno(env, "flock", errno);
  napi_value out;
  napi_get_boolean(env, rc == 0, &out);
  return out;
}

void register_flock(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"tryFlock", NULL, try_flock, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
