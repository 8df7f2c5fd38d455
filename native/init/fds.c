#define _GNU_SOURCE
#include "fds.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static int close_range_of(unsigned int first, unsigned int last) {
  if (first > last) return 0;
  return (int)syscall(SYS_close_range, first, last, 0);
}

/* close_range(2) is Linux 5.9+: without it (ENOSYS, or a seccomp filter that says so), the
 * fds /proc/self/fd lists, or where no /proc is mounted every number up to the fd limit. */
void fds_close_from(int lo, int keep) {
  if (keep >= lo) {
    if (close_range_of((unsigned int)lo, (unsigned int)keep - 1) == 0 && close_range_of((unsigned int)keep + 1, ~0U) == 0) return;
  } else if (close_range_of((unsigned int)lo, ~0U) == 0) {
    return;
  }
  int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (d) {
    for (struct dirent *e; (e = readdir(d));) {
      char *end;
      long fd = strtol(e->d_name, &end, 10);
      if (*end || end == e->d_name || fd < lo || fd == keep || fd == dfd) continue;
      close((int)fd);
    }
    closedir(d);
    return;
  }
  if (dfd >= 0) close(dfd);
  long max = sysconf(_SC_OPEN_MAX);
  for (long fd = lo; fd < (max > 0 ? max : 1024); fd++)
    if (fd != keep) close((int)fd);
}
