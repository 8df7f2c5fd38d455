/* Raw mode as docker's and podman's clients set it (cfmakeraw): Node's setRawMode keeps
 * ONLCR, so a container's terminal output, already "\r\n", would show as "\r\r\n".
 *
 * makeRaw(fd) -> a Buffer holding the terminal's settings before; the terminal is raw
 * restoreTermios(fd, saved): puts back what makeRaw returned */
#define _GNU_SOURCE
#include "napi_util.h"
#include <errno.h>
#include <node_api.h>
#include <termios.h>

static napi_value make_raw(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!one_int_arg(env, info, &fd, "makeRaw(fd)")) return NULL;
  struct termios saved, raw;
  if (tcgetattr(fd, &saved) < 0) return throw_errno(env, "tcgetattr", errno);
  raw = saved;
  cfmakeraw(&raw);
  /* reads return as soon as a byte is there */
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  if (tcsetattr(fd, TCSANOW, &raw) < 0) return throw_errno(env, "tcsetattr", errno);
  napi_value out;
  void *data;
  napi_create_buffer_copy(env, sizeof saved, &saved, &data, &out);
  return out;
}

static napi_value restore_termios(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t fd;
  void *data = NULL;
  size_t len = 0;
  bool is_buffer = false;
  if (argc == 2) napi_is_buffer(env, args[1], &is_buffer);
  if (!is_buffer || napi_get_value_int32(env, args[0], &fd) != napi_ok || napi_get_buffer_info(env, args[1], &data, &len) != napi_ok ||
      len != sizeof(struct termios)) {
    napi_throw_type_error(env, NULL, "restoreTermios(fd, saved): saved is what makeRaw returned");
    return NULL;
  }
  struct termios saved;
  memcpy(&saved, data, sizeof saved);
  /* TCSADRAIN: what was written in raw mode is shown as it was meant */
  if (tcsetattr(fd, TCSADRAIN, &saved) < 0) return throw_errno(env, "tcsetattr", errno);
  return NULL;
}

void register_termios(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"makeRaw", NULL, make_raw, NULL, NULL, NULL, napi_default, NULL},
      {"restoreTermios", NULL, restore_termios, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
