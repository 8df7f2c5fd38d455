/* Who is on the other end of a unix socket: the API server's audit log names the uid that
 * connected, as the kernel recorded it at connect(2) (SO_PEERCRED), not what the client says.
 *
 * peerCred(fd) -> [pid, uid, gid] */
#define _GNU_SOURCE
#include "napi_util.h"
#include <errno.h>
#include <node_api.h>
#include <sys/socket.h>

static napi_value peer_cred(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!one_int_arg(env, info, &fd, "peerCred(fd)")) return NULL;
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return throw_errno(env, "getsockopt(SO_PEERCRED)", errno);
  napi_value out, v;
  napi_create_array_with_length(env, 3, &out);
  napi_create_int32(env, cred.pid, &v);
  napi_set_element(env, out, 0, v);
  napi_create_uint32(env, cred.uid, &v);
  napi_set_element(env, out, 1, v);
  napi_create_uint32(env, cred.gid, &v);
  napi_set_element(env, out, 2, v);
  return out;
}

void register_peer_cred(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"peerCred", NULL, peer_cred, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
