/* Flags of an fd the runtime did not open itself.
 *
 * setCloexec(fd): sockets a service manager passes (systemd's socket activation, fd 3
 * onward) come without FD_CLOEXEC; the server sets it so no container process or helper
 * inherits the API socket.
 * setNonBlocking(fd): O_NONBLOCK, for a server that polls its reads rather than hold a
 * thread of the pool in each one (an attach can wait for output for hours). */
#define _GNU_SOURCE
#include "napi_util.h"
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>

/* fcntl's get-then-set of one flag; false with the JS error thrown */
static bool add_fd_flag(napi_env env, napi_callback_info info, int get, int set, int flag, const char *usage) {
  int32_t fd;
  if (!one_int_arg(env, info, &fd, usage)) return false;
  int flags = fcntl(fd, get);
  if (flags < 0 || fcntl(fd, set, flags | flag) < 0) {
    throw_errno(env, "fcntl", errno);
    return false;
  }
  return true;
}

static napi_value set_cloexec(napi_env env, napi_callback_info info) {
  add_fd_flag(env, info, F_GETFD, F_SETFD, FD_CLOEXEC, "setCloexec(fd)");
  return NULL;
}

static napi_value set_non_blocking(napi_env env, napi_callback_info info) {
  add_fd_flag(env, info, F_GETFL, F_SETFL, O_NONBLOCK, "setNonBlocking(fd)");
  return NULL;
}

void register_fd_flags(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"setCloexec", NULL, set_cloexec, NULL, NULL, NULL, napi_default, NULL},
      {"setNonBlocking", NULL, set_non_blocking, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
