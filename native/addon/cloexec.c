/* Sockets a service manager passes (systemd's socket activation, fd 3 onward) come without
 * FD_CLOEXEC; the server sets it so no container process or helper inherits the API socket.
 *
 * setCloexec(fd) */
#define _GNU_SOURCE
#include "napi_util.h"
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>

static napi_value set_cloexec(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!one_int_arg(env, info, &fd, "setCloexec(fd)")) return NULL;
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) return throw_errno(env, "fcntl(FD_CLOEXEC)", errno);
  return NULL;
}

void register_cloexec(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"setCloexec", NULL, set_cloexec, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
