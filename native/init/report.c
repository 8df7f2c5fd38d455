#include "report.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int sync_fd = -1;

void report_set_fd(int fd) { sync_fd = fd; }
int report_fd(void) { return sync_fd; }

void report_line(const char *line) {
  size_t len = strlen(line), off = 0;
  while (sync_fd >= 0 && off < len) {
    ssize_t n = write(sync_fd, line + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += (size_t)n;
  }
}

/* Tabs and newlines would break the line protocol. */
static void sanitize(char *s) {
  for (; *s; s++)
    if (*s == '\t' || *s == '\n') *s = ' ';
}

static _Noreturn void report_failure(long rec, int err, const char *why, const char *detail) {
  char text[256], msg[4096 + 512];
  snprintf(text, sizeof text, "%s", why);
  snprintf(msg, sizeof msg, "%s", detail ? detail : "");
  sanitize(text);
  sanitize(msg);
  char line[sizeof msg + 512];
  snprintf(line, sizeof line, "error\t%ld\t%d\t%s\t%s\n", rec, err, text, msg);
  report_line(line);
  _exit(1);
}

_Noreturn void fail(long rec, int err, const char *detail) { report_failure(rec, err, strerror(err), detail); }

_Noreturn void fail_text(long rec, const char *text, const char *detail) { report_failure(rec, 0, text, detail); }
