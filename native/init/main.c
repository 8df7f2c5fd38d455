/* droplet-init: carries out a launch plan made by droplet (TypeScript).
 *
 * droplet spawns it as `droplet init ID FIFO ARGS...` (that argv is only what `ps` shows) with
 * a socket on fd 3, and sends the plan on it. The launcher joins the namespaces given by path
 * and clones the init into the new ones, reports the init's pid, and exits once the init is
 * ready (or, for `run`, waits for it and exits with its status). The init waits for droplet's
 * go (the host side, its cgroup, is ready), builds the container, reports "ready", closes the
 * socket and blocks on exec.fifo; `droplet start` writes one byte and the init execve()s the
 * entrypoint with the same pid. Every failure is reported as (record, errno): see report.h.
 * plan-tags.h lists every message on the socket: who sends it, when, and what follows. */
#define _GNU_SOURCE
#include "console.h"
#include "fds.h"
#include "fs.h"
#include "hooks.h"
#include "ns.h"
#include "plan.h"
#include "process.h"
#include "report.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The sync socket: fd 3, or after the fds kept by --preserve-fds (DROPLET_SYNC_FD). */
static int SYNC_FD = 3;

static int read_full(int fd, void *buf, size_t len) {
  size_t off = 0;
  while (off < len) {
    ssize_t n = read(fd, (char *)buf + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    off += (size_t)n;
  }
  return 0;
}

static void read_plan(struct plan *plan) {
  uint8_t hdr[4];
  if (read_full(SYNC_FD, hdr, 4) < 0) fail(REC_NONE, errno ? errno : EPIPE, "read plan");
  uint32_t len = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
  if (len > 64u << 20) fail(REC_NONE, EINVAL, "plan too large");
  uint8_t *buf = malloc(len);
  if (!buf) fail(REC_NONE, ENOMEM, "read plan");
  if (read_full(SYNC_FD, buf, len) < 0) fail(REC_NONE, errno ? errno : EPIPE, "read plan");
  if (plan_parse(buf, len, plan) < 0) fail(REC_NONE, EINVAL, "malformed plan");
}

/* In `run`, the launcher stays as the init's parent; `ps` should not show it as a second init. */
static void rename_monitor(int argc, char **argv) {
  char *start = argv[0], *end = argv[argc - 1] + strlen(argv[argc - 1]);
  size_t room = (size_t)(end - start);
  char title[256];
  snprintf(title, sizeof title, "droplet run %s", argc > 2 ? argv[2] : "");
  memset(start, 0, room);
  memcpy(start, title, strlen(title) < room ? strlen(title) : room);
}

static _Noreturn void launcher(pid_t child, int ready_fd, int monitor, int argc, char **argv) {
  char line[64];
  snprintf(line, sizeof line, "pid %d\n", child);
  report_line(line);
  char byte;
  ssize_t n;
  do n = read(ready_fd, &byte, 1);
  while (n < 0 && errno == EINTR);
  if (n == 1 && !monitor) _exit(0);
  if (monitor) {
    /* droplet forwards signals to the container; a terminal's ^C must not end the monitor. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    rename_monitor(argc, argv);
  }
  int status;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR) _exit(1);
  /* an init that died before ready: its status (128+n for signal n) tells droplet why */
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* The hooks' state documents, sent with the go: the init's host pid is known by then. */
static char *create_state = "", *start_state = "", *listener_payload = "";

static char *read_string(void) {
  uint8_t hdr[4];
  if (read_full(SYNC_FD, hdr, 4) < 0) _exit(1);
  uint32_t len = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
  if (len > 1u << 20) _exit(1);
  char *s = calloc(len + 1, 1);
  if (!s || read_full(SYNC_FD, s, len) < 0) _exit(1);
  return s;
}

static void wait_for_go(void) {
  char go;
  if (read_full(SYNC_FD, &go, 1) < 0 || go != 'g') _exit(1); /* droplet went away */
  create_state = read_string();
  start_state = read_string();
  listener_payload = read_string();
}

/* prestart and createRuntime hooks run in droplet, between the mounts and pivot_root. */
static void wait_for_runtime_hooks(void) {
  char c;
  report_line("hooks\n");
  if (read_full(SYNC_FD, &c, 1) < 0 || c != 'c') _exit(1);
}

static void run_hook(long i, const struct record *r, const char *state) {
  char why[256];
  if (hook_run(r, state, why, sizeof why) < 0) fail_text(i, why, "");
}

static int preserve_fds;

/* Blocks until `droplet start` writes its byte. The FIFO was opened non-blocking at create,
 * so a start that comes first still finds a reader; poll waits for the first writer. */
static void wait_for_start(int fifo_fd) {
  struct pollfd p = {.fd = fifo_fd, .events = POLLIN};
  char byte;
  for (;;) {
    int rc = poll(&p, 1, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) break;
    ssize_t n = read(fifo_fd, &byte, 1);
    if (n == 1) return;
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    break;
  }
  dprintf(2, "droplet: init: exec.fifo closed without a start byte\n");
  _exit(1);
}

static void run_init_record(long i, const struct record *r) {
  switch (r->tag) {
  case T_UNSHARE_CGROUP:
    if (unshare(CLONE_NEWCGROUP) < 0) fail(i, errno, "cgroup");
    break;
  case T_HOSTNAME: ns_hostname(i, r, 0); break;
  case T_DOMAINNAME: ns_hostname(i, r, 1); break;
  case T_LOOPBACK: ns_loopback_up(i); break;
  case T_ROOTFS: fs_rootfs(i, r); break;
  case T_MOUNT: fs_mount(i, r); break;
  case T_DEVICE: fs_device(i, r); break;
  case T_SYMLINK: fs_symlink(i, r); break;
  case T_MKDIR: fs_mkdir(i, r); break;
  case T_MASK: fs_mask(i, r); break;
  case T_READONLY: fs_readonly(i, r); break;
  case T_PIVOT: fs_pivot(i, r); break;
  case T_ROOT_READONLY: fs_root_readonly(i); break;
  case T_CHROOT: fs_chroot(i, r); break;
  case T_RLIMIT: proc_rlimit(i, r); break;
  case T_CAPS: proc_caps(i, r); break;
  case T_USER: proc_user(i, r); break;
  case T_NO_NEW_PRIVS: proc_no_new_privs(i); break;
  case T_CWD: proc_cwd(i, r); break;
  case T_EXEC: proc_prepare_exec(i, r); break;
  case T_SYSCTL: proc_write_file(i, r); break;
  case T_PERSONALITY: proc_personality(i, r); break;
  case T_IO_PRIORITY: proc_ioprio(i, r); break;
  case T_SCHEDULER: proc_scheduler(i, r); break;
  case T_LSM_EXEC: proc_write_file(i, r); break;
  case T_USER_NS_ROOT: ns_become_root(i); break;
  case T_KEYRING: proc_keyring(i, r); break;
  case T_CONSOLE: console_setup(i, r); break;
  case T_SYNC_HOOKS: wait_for_runtime_hooks(); break;
  case T_SECCOMP: proc_seccomp(i, r, listener_payload); break;
  case T_SECCOMP_LISTENER: proc_seccomp_connect(i, r); break;
  case T_HOOK:
    if (hook_phase(r) == HOOK_CREATE_CONTAINER) run_hook(i, r, create_state);
    break; /* startContainer hooks run after the start byte */
  default: fail(i, EINVAL, "unknown plan record");
  }
}

int main(int argc, char **argv) {
  const char *sync_env = getenv("DROPLET_SYNC_FD");
  if (sync_env) SYNC_FD = atoi(sync_env);
  if (fcntl(SYNC_FD, F_SETFD, FD_CLOEXEC) < 0) {
    fprintf(stderr, "droplet-init: is run by droplet, not by hand (no sync socket on fd 3)\n");
    return 2;
  }
  /* The caller's other fds (a lock it holds, a pipe it waits on) are not the container's:
   * only stdio, the --preserve-fds ones (3 up to the sync socket) and the socket stay. */
  fds_close_from(SYNC_FD + 1, -1);
  report_set_fd(SYNC_FD);
  struct plan plan;
  read_plan(&plan);
  umask(0);

  int monitor = 0, fifo_fd = -1;
  long time_rec = -1;
  const char *time_offsets = NULL;
  unsigned long clone_flags = 0;
  size_t i = 0;
  for (; i < plan.count; i++) {
    const struct record *r = &plan.records[i];
    struct field_reader f;
    if (r->tag == T_MONITOR) {
      monitor = 1;
    } else if (r->tag == T_NS_JOIN) {
      ns_open_join((long)i, r);
    } else if (r->tag == T_TIME_OFFSETS) {
      fields_open(&f, r);
      time_offsets = field_str(&f);
      time_rec = (long)i;
    } else if (r->tag == T_CONSOLE_CONNECT) {
      console_connect_early((long)i, r);
    } else if (r->tag == T_PRESERVE_FDS) {
      fields_open(&f, r);
      preserve_fds = (int)field_u64(&f);
    } else if (r->tag == T_FIFO) {
      fields_open(&f, r);
      const char *path = field_str(&f);
      if (mkfifo(path, 0600) < 0) fail((long)i, errno, path);
      fifo_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (fifo_fd < 0) fail((long)i, errno, path);
    } else if (r->tag == T_CLONE) {
      fields_open(&f, r);
      clone_flags = field_u64(&f);
      break;
    } else {
      fail((long)i, EINVAL, "record out of place before clone");
    }
  }
  /* exec plans have no FIFO: the process runs as soon as it is ready */
  if (i == plan.count) fail(REC_NONE, EINVAL, "plan has no clone record");
  ns_join_all();
  if (time_offsets) ns_time_offsets(time_rec, time_offsets);

  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) fail((long)i, errno, "pipe");
  pid_t child = (pid_t)syscall(SYS_clone, clone_flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (child < 0) fail((long)i, errno, "clone");
  if (child > 0) {
    close(ready[1]);
    launcher(child, ready[0], monitor, argc, argv);
  }
  close(ready[0]);
  /* Until it execs, nothing else may ptrace the init or open its /proc files. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  wait_for_go();
  for (i++; i < plan.count; i++) run_init_record((long)i, &plan.records[i]);
  proc_seccomp_late();

  for (int fd = 3; fd < 3 + preserve_fds; fd++) fcntl(fd, F_SETFD, 0);
  report_line("ready\n");
  report_set_fd(-1);
  close(SYNC_FD);
  if (write(ready[1], "r", 1) != 1) _exit(1);
  close(ready[1]);
  /* While it waits, and in the entrypoint: stdio, the --preserve-fds ones, and the FIFO
   * (close-on-exec) only; what setup opened (the rootfs, namespace files) is closed now. */
  fds_close_from(3 + preserve_fds, fifo_fd);
  if (fifo_fd >= 0) wait_for_start(fifo_fd);
  for (i = 0; fifo_fd >= 0 && i < plan.count; i++) {
    const struct record *r = &plan.records[i];
    char why[256];
    if (r->tag == T_HOOK && hook_phase(r) == HOOK_START_CONTAINER && hook_run(r, start_state, why, sizeof why) < 0) {
      /* nobody waits for a report now: say it where the container's output goes */
      dprintf(2, "droplet: startContainer hook: %s\n", why);
      _exit(1);
    }
  }
  proc_exec();
}
