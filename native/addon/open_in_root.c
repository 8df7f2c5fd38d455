/* openInRoot(rootFd, path, flags, mode): openat2(2) with RESOLVE_IN_ROOT. The path and every
 * symlink met on the way are resolved as if rootFd were "/", and ".." stops there, all in
 * one call of the kernel: a container that swaps a directory for a symlink while we copy
 * cannot lead us out of its root, which resolving component by component in userspace
 * could not promise. Magic links (/proc/self/fd/N inside the container) are refused.
 *
 * Throws an Error whose code is the errno's name (ENOENT, ELOOP, ...). */
#define _GNU_SOURCE
#include "napi_util.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static napi_value open_in_root(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value args[4];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t root, flags;
  uint32_t mode;
  char *path = NULL;
  if (argc < 4 || napi_get_value_int32(env, args[0], &root) != napi_ok || napi_get_value_int32(env, args[2], &flags) != napi_ok ||
      napi_get_value_uint32(env, args[3], &mode) != napi_ok || !(path = string_of(env, args[1], NULL))) {
    napi_throw_type_error(env, NULL, "openInRoot(rootFd, path, flags, mode)");
    return NULL;
  }
  struct open_how how = {
      .flags = (uint64_t)(uint32_t)flags | O_CLOEXEC,
      .mode = (flags & O_CREAT) ? mode : 0,
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  long fd = -1;
  /* EAGAIN: a rename elsewhere in the tree raced with a ".."; the kernel asks for a retry */
  for (int attempt = 0; attempt < 64; attempt++) {
    fd = syscall(SYS_openat2, root, path, &how, sizeof how);
    if (fd >= 0 || errno != EAGAIN) break;
  }
  if (fd < 0) {
    int err = errno;
    char msg[4200];
    snprintf(msg, sizeof msg, "%s: %s", path, strerror(err));
    free(path);
    napi_throw_error(env, strerrorname_np(err), msg);
    return NULL;
  }
  free(path);
  napi_value out;
  napi_create_int32(env, (int32_t)fd, &out);
  return out;
}

void register_open_in_root(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"openInRoot", NULL, open_in_root, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
