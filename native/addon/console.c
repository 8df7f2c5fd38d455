/* The addon's side of a terminal for `droplet run` in the foreground: a unix socket the
 * init sends the pty master to (the same protocol as --console-socket), and the window size
 * of that master. */
#define _GNU_SOURCE
#include "napi_util.h"
#include <errno.h>
#include <node_api.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int int_arg(napi_env env, napi_value v, int32_t *out) { return napi_get_value_int32(env, v, out) == napi_ok; }

/* listenUnix(path) -> fd of a listening socket bound at path */
static napi_value listen_unix(napi_env env, napi_callback_info info) {
  struct sockaddr_un addr;
  if (!unix_address_arg(env, info, &addr, "listenUnix(path): a path shorter than 108 bytes")) return NULL;
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return throw_errno(env, "socket", errno);
  if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(s, 1) < 0) {
    int err = errno;
    close(s);
    return throw_errno(env, addr.sun_path, err);
  }
  napi_value out;
  napi_create_int32(env, s, &out);
  return out;
}

/* The fd the connected peer c sends with SCM_RIGHTS, as a JS number; c is closed. */
static napi_value take_fd(napi_env env, int c) {
  char name[256];
  struct iovec iov = {.iov_base = name, .iov_len = sizeof name};
  char control[CMSG_SPACE(sizeof(int))];
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t n = recvmsg(c, &msg, MSG_CMSG_CLOEXEC);
  int err = errno;
  close(c);
  if (n < 0) return throw_errno(env, "recvmsg", err);
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  if (!cm || cm->cmsg_type != SCM_RIGHTS) {
    napi_throw_error(env, NULL, "the console peer sent no fd");
    return NULL;
  }
  int fd;
  memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

/* receiveFd(listeningFd) -> the fd the first peer sent with SCM_RIGHTS */
static napi_value receive_fd(napi_env env, napi_callback_info info) {
  int32_t lfd;
  if (!one_int_arg(env, info, &lfd, "receiveFd(fd)")) return NULL;
  int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) return throw_errno(env, "accept", errno);
  return take_fd(env, c);
}

/* tryReceiveFd(listeningFd) -> the fd a peer sent with SCM_RIGHTS, or -1 when no peer has
 * connected yet: a server polls it rather than block its event loop on accept while the
 * runtime may fail before it connects. A peer that connected sends at once (runc, crun and
 * droplet connect and send in one go); it gets a second to do so. */
static napi_value try_receive_fd(napi_env env, napi_callback_info info) {
  int32_t lfd;
  if (!one_int_arg(env, info, &lfd, "tryReceiveFd(fd)")) return NULL;
  struct pollfd p = {.fd = lfd, .events = POLLIN};
  napi_value out;
  if (poll(&p, 1, 0) <= 0) {
    napi_create_int32(env, -1, &out);
    return out;
  }
  int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) return throw_errno(env, "accept", errno);
  struct pollfd q = {.fd = c, .events = POLLIN};
  if (poll(&q, 1, 1000) <= 0) {
    close(c);
    napi_throw_error(env, NULL, "the console peer sent nothing");
    return NULL;
  }
  return take_fd(env, c);
}

/* setWinsize(fd, rows, cols) */
static napi_value set_winsize(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3];
  int32_t fd, rows, cols;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (argc < 3 || !int_arg(env, args[0], &fd) || !int_arg(env, args[1], &rows) || !int_arg(env, args[2], &cols)) {
    napi_throw_type_error(env, NULL, "setWinsize(fd, rows, cols)");
    return NULL;
  }
  struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0) return throw_errno(env, "TIOCSWINSZ", errno);
  return NULL;
}

void register_console(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"listenUnix", NULL, listen_unix, NULL, NULL, NULL, napi_default, NULL},
      {"receiveFd", NULL, receive_fd, NULL, NULL, NULL, napi_default, NULL},
      {"tryReceiveFd", NULL, try_receive_fd, NULL, NULL, NULL, napi_default, NULL},
      {"setWinsize", NULL, set_winsize, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
