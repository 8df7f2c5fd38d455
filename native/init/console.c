#define _GNU_SOURCE
#include "console.h"
#include "fs.h"
#include "report.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static void send_master(long rec, const char *socket_path, int master) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail(rec, errno, "socket");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof addr.sun_path) fail(rec, ENAMETOOLONG, socket_path);
  strcpy(addr.sun_path, socket_path);
  if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) fail(rec, errno, socket_path);
  /* runc sends the master's name along with the fd; readers take the fd */
  char name[] = "/dev/ptmx";
  struct iovec iov = {.iov_base = name, .iov_len = sizeof name - 1};
  char control[CMSG_SPACE(sizeof(int))];
  memset(control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof(int));
  if (sendmsg(s, &msg, MSG_NOSIGNAL) < 0) fail(rec, errno, socket_path);
  close(s);
}

void console_setup(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  const char *socket_path = field_str(&f);
  unsigned short rows = (unsigned short)field_u64(&f), cols = (unsigned short)field_u64(&f);
  if (f.bad) fail(rec, EINVAL, "malformed console record");

  /* The container's own devpts: its ptmx, never the host's. */
  int ptmx_path = fs_open_in_root("/dev/pts/ptmx");
  if (ptmx_path < 0) fail(rec, errno, "/dev/pts/ptmx");
  char p[64];
  snprintf(p, sizeof p, "/proc/self/fd/%d", ptmx_path);
  int master = open(p, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail(rec, errno, "/dev/pts/ptmx");
  close(ptmx_path);
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail(rec, errno, "unlock pty");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail(rec, errno, "open pty slave");
  if (rows || cols) {
    struct winsize ws = {.ws_row = rows, .ws_col = cols};
    if (ioctl(master, TIOCSWINSZ, &ws) < 0) fail(rec, errno, "set console size");
  }

  /* /dev/console is the slave, bind-mounted */
  int console = fs_ensure_file_in_root("/dev/console");
  if (console < 0) fail(rec, errno, "/dev/console");
  char src[64], dst[64];
  snprintf(src, sizeof src, "/proc/self/fd/%d", slave);
  snprintf(dst, sizeof dst, "/proc/self/fd/%d", console);
  if (mount(src, dst, NULL, MS_BIND, NULL) < 0) fail(rec, errno, "/dev/console");
  close(console);

  if (setsid() < 0) fail(rec, errno, "setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0) fail(rec, errno, "set controlling terminal");
  for (int fd = 0; fd <= 2; fd++)
    if (dup2(slave, fd) < 0) fail(rec, errno, "console as stdio");
  close(slave);
  send_master(rec, socket_path, master);
  close(master);
}
