/* A client of conmon's attach socket: SOCK_SEQPACKET, which Node's net module cannot open.
 * The fd is blocking: the CLI reads and writes it from the thread pool (fs.read, fs.write),
 * one packet a read; the server makes it non-blocking (fd_flags.c) and polls it.
 *
 * connectSeqpacket(path) -> fd of a SOCK_SEQPACKET unix socket connected to path
 * shutdownSocket(fd, how): shutdown(2); how is SHUT_RD (0), SHUT_WR (1) or SHUT_RDWR (2).
 *   SHUT_WR tells the peer no more input comes; SHUT_RDWR also wakes a blocked read. */
#define _GNU_SOURCE
#include "napi_util.h"
#include <errno.h>
#include <node_api.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static napi_value connect_seqpacket(napi_env env, napi_callback_info info) {
  struct sockaddr_un addr;
  if (!unix_address_arg(env, info, &addr, "connectSeqpacket(path): a path shorter than 108 bytes")) return NULL;
  int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0) return throw_errno(env, "socket", errno);
  int rc;
  do rc = connect(s, (struct sockaddr *)&addr, sizeof addr);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int err = errno;
    close(s);
    return throw_errno(env, addr.sun_path, err);
  }
  napi_value out;
  napi_create_int32(env, s, &out);
  return out;
}

static napi_value shutdown_socket(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t fd, how;
  if (argc < 2 || napi_get_value_int32(env, args[0], &fd) != napi_ok || napi_get_value_int32(env, args[1], &how) != napi_ok ||
      (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)) {
    napi_throw_type_error(env, NULL, "shutdownSocket(fd, how): how is 0 (read), 1 (write) or 2 (both)");
    return NULL;
  }
  /* ENOTCONN: the peer is gone already, which is what the caller wanted */
  if (shutdown(fd, how) < 0 && errno != ENOTCONN) return throw_errno(env, "shutdown", errno);
  return NULL;
}

void register_seqpacket(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"connectSeqpacket", NULL, connect_seqpacket, NULL, NULL, NULL, napi_default, NULL},
      {"shutdownSocket", NULL, shutdown_socket, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
