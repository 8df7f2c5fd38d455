#define _GNU_SOURCE
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#include "ns.h"
#include "report.h"
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_JOINS 16
static struct {
  long rec;
  int fd;
  int type;
  const char *path;
} joins[MAX_JOINS];
static int njoins;

void ns_open_join(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  int type = (int)field_u64(&f);
  const char *path = field_str(&f);
  if (f.bad || njoins == MAX_JOINS) fail(rec, EINVAL, "malformed namespace record");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(rec, errno, path);
  joins[njoins].rec = rec;
  joins[njoins].fd = fd;
  joins[njoins].type = type;
  joins[njoins].path = path;
  njoins++;
}

void ns_join_all(void) {
  for (int i = 0; i < njoins; i++) {
    if (setns(joins[i].fd, joins[i].type) < 0) fail(joins[i].rec, errno, joins[i].path);
    close(joins[i].fd);
  }
}

void ns_hostname(long rec, const struct record *r, int domain) {
  struct field_reader f;
  fields_open(&f, r);
  const char *name = field_str(&f);
  if (f.bad) fail(rec, EINVAL, "malformed hostname record");
  int rc = domain ? setdomainname(name, strlen(name)) : sethostname(name, strlen(name));
  if (rc < 0) fail(rec, errno, name);
}

void ns_loopback_up(long rec) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail(rec, errno, "lo");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail(rec, errno, "lo");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail(rec, errno, "lo");
  close(s);
}

void ns_time_offsets(long rec, const char *offsets) {
  if (unshare(CLONE_NEWTIME) < 0) fail(rec, errno, "time namespace");
  if (!*offsets) return;
  int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(rec, errno, "/proc/self/timens_offsets");
  if (write(fd, offsets, strlen(offsets)) < 0) fail(rec, errno, "timens_offsets");
  close(fd);
}

void ns_become_root(long rec) {
  if (setresgid(0, 0, 0) < 0) fail(rec, errno, "setresgid(0)");
  if (setresuid(0, 0, 0) < 0) fail(rec, errno, "setresuid(0)");
}
