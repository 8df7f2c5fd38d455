/* The filesystem calls Node lacks that unpacking an image layer needs: device nodes (and
 * overlay's whiteouts, 0:0 character devices) and extended attributes (overlay's opaque
 * directories). Neither follows a symlink in the last component.
 *
 * mknod(path, mode, major, minor): mode holds the file type (S_IFCHR, S_IFBLK, S_IFIFO)
 * lsetxattr(path, name, value): value is a Buffer */
#define _GNU_SOURCE
#include "napi_util.h"
#include <errno.h>
#include <node_api.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

static napi_value do_mknod(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value args[4];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  char path[4096];
  size_t len;
  uint32_t mode, major, minor;
  if (argc < 4 || napi_get_value_string_utf8(env, args[0], path, sizeof path, &len) != napi_ok || len >= sizeof path - 1 ||
      napi_get_value_uint32(env, args[1], &mode) != napi_ok || napi_get_value_uint32(env, args[2], &major) != napi_ok ||
      napi_get_value_uint32(env, args[3], &minor) != napi_ok) {
    napi_throw_type_error(env, NULL, "mknod(path, mode, major, minor)");
    return NULL;
  }
  if (mknod(path, (mode_t)mode, makedev(major, minor)) < 0) return throw_errno(env, "mknod", errno);
  return NULL;
}

static napi_value do_lsetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  char path[4096], name[256];
  size_t plen, nlen, vlen;
  void *value;
  bool is_buffer = false;
  if (argc == 3) napi_is_buffer(env, args[2], &is_buffer);
  if (!is_buffer || napi_get_value_string_utf8(env, args[0], path, sizeof path, &plen) != napi_ok || plen >= sizeof path - 1 ||
      napi_get_value_string_utf8(env, args[1], name, sizeof name, &nlen) != napi_ok || nlen >= sizeof name - 1 ||
      napi_get_buffer_info(env, args[2], &value, &vlen) != napi_ok) {
    napi_throw_type_error(env, NULL, "lsetxattr(path, name, value: Buffer)");
    return NULL;
  }
  if (lsetxattr(path, name, value, vlen, 0) < 0) return throw_errno(env, "lsetxattr", errno);
  return NULL;
}

void register_fs_nodes(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"mknod", NULL, do_mknod, NULL, NULL, NULL, napi_default, NULL},
      {"lsetxattr", NULL, do_lsetxattr, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
