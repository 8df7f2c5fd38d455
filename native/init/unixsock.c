#define _GNU_SOURCE
#include "unixsock.h"
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int unix_connect(const char *socket_path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(addr.sun_path, socket_path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int saved = errno;
    close(s);
    errno = saved;
    return -1;
  }
  return s;
}

int send_fd_on(int sock, int fd, const char *payload) {
  struct iovec iov = {.iov_base = (void *)payload, .iov_len = strlen(payload)};
  char control[CMSG_SPACE(sizeof(int))];
  memset(control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

int send_fd(const char *socket_path, int fd, const char *payload) {
  int s = unix_connect(socket_path);
  if (s < 0) return -1;
  int rc = send_fd_on(s, fd, payload);
  int saved = errno;
  close(s);
  errno = saved;
  return rc;
}
