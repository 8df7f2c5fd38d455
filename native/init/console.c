#define _GNU_SOURCE
#include "console.h"
#include "fs.h"
#include "report.h"
#include "unixsock.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static int early_sock = -1;

void console_connect_early(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  const char *path = field_str(&f);
  if (f.bad) fail(rec, EINVAL, "malformed console record");
  early_sock = unix_connect(path);
  if (early_sock < 0) fail(rec, errno, path);
}

void console_setup(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  const char *socket_path = field_str(&f);
  unsigned short rows = (unsigned short)field_u64(&f), cols = (unsigned short)field_u64(&f);
  int bind_console = (int)field_u64(&f);
  if (f.bad) fail(rec, EINVAL, "malformed console record");

  /* The container's own devpts: its ptmx, never the host's. (An exec'd process has joined
   * the container's mount namespace: its / is the container's.) */
  int ptmx_path = bind_console ? fs_open_in_root("/dev/pts/ptmx") : open("/dev/pts/ptmx", O_PATH | O_CLOEXEC);
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

  if (bind_console) {
    /* /dev/console is the slave, bind-mounted */
    int console = fs_ensure_file_in_root("/dev/console");
    if (console < 0) fail(rec, errno, "/dev/console");
    char src[64], dst[64];
    snprintf(src, sizeof src, "/proc/self/fd/%d", slave);
    snprintf(dst, sizeof dst, "/proc/self/fd/%d", console);
    if (mount(src, dst, NULL, MS_BIND, NULL) < 0) fail(rec, errno, "/dev/console");
    close(console);
  }

  if (setsid() < 0) fail(rec, errno, "setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0) fail(rec, errno, "set controlling terminal");
  for (int fd = 0; fd <= 2; fd++)
    if (dup2(slave, fd) < 0) fail(rec, errno, "console as stdio");
  close(slave);
  /* runc sends the master's name along with the fd; readers take the fd */
  int sent = early_sock >= 0 ? send_fd_on(early_sock, master, "/dev/ptmx") : send_fd(socket_path, master, "/dev/ptmx");
  if (sent < 0) fail(rec, errno, socket_path);
  if (early_sock >= 0) close(early_sock);
  close(master);
}
