#define _GNU_SOURCE
#include "process.h"
#include "report.h"
#include "unixsock.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int have_caps;
static long caps_rec; /* the capabilities record: a capset failure is that field's */
static uint64_t cap_bounding, cap_effective, cap_inheritable, cap_permitted, cap_ambient;

void proc_rlimit(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  int resource = (int)field_u64(&f);
  struct rlimit lim = {.rlim_cur = field_u64(&f), .rlim_max = field_u64(&f)};
  if (f.bad) fail(rec, EINVAL, "malformed rlimit record");
  if (setrlimit(resource, &lim) < 0) fail(rec, errno, "");
}

void proc_caps(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  cap_bounding = field_u64(&f);
  cap_effective = field_u64(&f);
  cap_inheritable = field_u64(&f);
  cap_permitted = field_u64(&f);
  cap_ambient = field_u64(&f);
  if (f.bad) fail(rec, EINVAL, "malformed capabilities record");
  have_caps = 1;
  caps_rec = rec;
}

static int last_cap(void) {
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  char buf[16] = {0};
  if (fd >= 0) {
    if (read(fd, buf, sizeof buf - 1) < 0) buf[0] = 0;
    close(fd);
  }
  int n = atoi(buf);
  return n > 0 ? n : 40;
}

static void apply_caps(void) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2] = {
      {(uint32_t)cap_effective, (uint32_t)cap_permitted, (uint32_t)cap_inheritable},
      {(uint32_t)(cap_effective >> 32), (uint32_t)(cap_permitted >> 32), (uint32_t)(cap_inheritable >> 32)},
  };
  if (syscall(SYS_capset, &hdr, data) < 0) fail(caps_rec, errno, "capset");
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (int c = 0; c < 64; c++)
    if (cap_ambient >> c & 1) /* As in runc: an ambient cap not in the inheritable set cannot be raised; skip it. */
      prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
}

/* Runs with the identity records: bounding set first (needs CAP_SETPCAP), then the ids with
 * KEEPCAPS so the permitted set survives setuid, then the final sets. */
void proc_user(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  uid_t uid = (uid_t)field_u64(&f);
  gid_t gid = (gid_t)field_u64(&f);
  size_t ngroups = (size_t)field_u64(&f);
  if (ngroups > 65536) fail(rec, EINVAL, "too many groups");
  gid_t *groups = calloc(ngroups ? ngroups : 1, sizeof *groups);
  if (!groups) fail(rec, ENOMEM, "groups");
  for (size_t i = 0; i < ngroups; i++) groups[i] = (gid_t)field_u64(&f);
  uint64_t umask_value = field_u64(&f);
  if (f.bad) fail(rec, EINVAL, "malformed user record");

  if (have_caps) {
    int last = last_cap();
    for (int c = 0; c <= last; c++)
      if (!(cap_bounding >> c & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) fail(rec, errno, "bounding set");
  }
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail(rec, errno, "keepcaps");
  if (setgroups(ngroups, groups) < 0) fail(rec, errno, "setgroups");
  if (setresgid(gid, gid, gid) < 0) fail(rec, errno, "setgid");
  if (setresuid(uid, uid, uid) < 0) fail(rec, errno, "setuid");
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail(rec, errno, "keepcaps");
  if (have_caps) apply_caps();
  umask((mode_t)umask_value);
  free(groups);
}

void proc_no_new_privs(long rec) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(rec, errno, "");
}

void proc_cwd(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  const char *cwd = field_str(&f);
  if (f.bad) fail(rec, EINVAL, "malformed cwd record");
  if (chdir(cwd) < 0) fail(rec, errno, cwd);
}

static struct {
  int pending;
  long rec;
  unsigned int flags;
  struct sock_fprog prog;
  int listener; /* connected socket, or -1 */
  const char *payload;
} seccomp_filter = {.listener = -1};

void proc_seccomp_connect(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  const char *path = field_str(&f);
  if (f.bad) fail(rec, EINVAL, "malformed seccomp listener record");
  seccomp_filter.listener = unix_connect(path);
  if (seccomp_filter.listener < 0) fail(rec, errno, path);
}

/* 0, or an errno; the detail names the step that failed. */
static int load_seccomp(const char **detail) {
  int notify = seccomp_filter.listener >= 0;
  unsigned int flags = seccomp_filter.flags | (notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0);
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &seccomp_filter.prog);
  *detail = "load filter";
  if (fd < 0) return errno;
  if (notify) {
    *detail = "send the listener fd";
    if (send_fd_on(seccomp_filter.listener, (int)fd, seccomp_filter.payload) < 0) return errno;
    close((int)fd);
    close(seccomp_filter.listener);
  }
  return 0;
}

void proc_seccomp(long rec, const struct record *r, const char *listener_payload) {
  struct field_reader f;
  fields_open(&f, r);
  seccomp_filter.flags = (unsigned int)field_u64(&f);
  uint32_t len;
  const uint8_t *program = field_bytes(&f, &len);
  field_str(&f); /* listener path: connected before pivot_root (proc_seccomp_connect) */
  field_str(&f); /* metadata: already in the payload */
  field_u64(&f); /* notify: the listener connection says it */
  int late = (int)field_u64(&f);
  if (f.bad || len % sizeof(struct sock_filter) || len == 0) fail(rec, EINVAL, "malformed seccomp record");
  seccomp_filter.prog.len = (unsigned short)(len / sizeof(struct sock_filter));
  seccomp_filter.prog.filter = (struct sock_filter *)program;
  seccomp_filter.payload = listener_payload;
  seccomp_filter.rec = rec;
  if (late) {
    seccomp_filter.pending = 1;
    return;
  }
  const char *detail;
  int err = load_seccomp(&detail);
  if (err) fail(rec, err, detail);
}

void proc_seccomp_late(void) {
  if (!seccomp_filter.pending) return;
  const char *detail;
  int err = load_seccomp(&detail);
  if (err) fail(seccomp_filter.rec, err, detail);
}

static char **exec_argv, **exec_envp;
static char *exec_path;

/* 0, or the errno execve would give. */
static int check_executable(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) return errno;
  if (!S_ISREG(st.st_mode)) return EACCES;
  return access(path, X_OK) < 0 ? errno : 0;
}

void proc_prepare_exec(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  size_t argc = (size_t)field_u64(&f);
  if (argc == 0 || argc > 1u << 20) fail(rec, EINVAL, "args");
  exec_argv = calloc(argc + 1, sizeof *exec_argv);
  for (size_t i = 0; exec_argv && i < argc; i++) exec_argv[i] = (char *)field_str(&f);
  size_t envc = (size_t)field_u64(&f);
  if (envc > 1u << 20) fail(rec, EINVAL, "env");
  exec_envp = calloc(envc + 1, sizeof *exec_envp);
  if (!exec_argv || !exec_envp) fail(rec, ENOMEM, "args");
  const char *path_env = NULL;
  for (size_t i = 0; i < envc; i++) {
    exec_envp[i] = (char *)field_str(&f);
    if (strncmp(exec_envp[i], "PATH=", 5) == 0) path_env = exec_envp[i] + 5;
  }
  if (f.bad) fail(rec, EINVAL, "malformed exec record");

  const char *name = exec_argv[0];
  if (strchr(name, '/')) {
    int err = check_executable(name);
    if (err) fail(rec, err, name);
    exec_path = (char *)name;
    return;
  }
  /* The lookup execvp would do, with the container's PATH, done now so create can fail. */
  if (!path_env) path_env = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  char *dirs = strdup(path_env);
  for (char *save = NULL, *dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    size_t len = strlen(dir) + strlen(name) + 2;
    char *candidate = malloc(len);
    snprintf(candidate, len, "%s/%s", dir, name);
    if (check_executable(candidate) == 0) {
      exec_path = candidate;
      return;
    }
    free(candidate);
  }
  fail(rec, ENOENT, name);
}

_Noreturn void proc_exec(void) {
  /* Undo what the Node parent left: ignored signals, a blocked mask, non-blocking stdio. */
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL);
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  for (int fd = 0; fd <= 2; fd++) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  }
  execve(exec_path, exec_argv, exec_envp);
  dprintf(2, "droplet: exec %s: %s\n", exec_path, strerror(errno));
  _exit(127);
}

void proc_personality(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  unsigned long persona = field_u64(&f);
  if (f.bad) fail(rec, EINVAL, "malformed personality record");
  if (personality(persona) < 0) fail(rec, errno, "");
}

void proc_ioprio(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  int value = (int)field_u64(&f);
  if (f.bad) fail(rec, EINVAL, "malformed ioprio record");
  if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, value) < 0) fail(rec, errno, "");
}

/* struct sched_attr, first version (SCHED_ATTR_SIZE_VER0). */
struct sched_attr_v0 {
  uint32_t size, sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
};

void proc_scheduler(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  struct sched_attr_v0 a = {.size = sizeof a};
  a.sched_policy = (uint32_t)field_u64(&f);
  a.sched_flags = field_u64(&f);
  a.sched_nice = (int32_t)field_u64(&f);
  a.sched_priority = (uint32_t)field_u64(&f);
  a.sched_runtime = field_u64(&f);
  a.sched_deadline = field_u64(&f);
  a.sched_period = field_u64(&f);
  if (f.bad) fail(rec, EINVAL, "malformed scheduler record");
  if (syscall(SYS_sched_setattr, 0, &a, 0) < 0) fail(rec, errno, "");
}

void proc_write_file(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  const char *path = field_str(&f), *value = field_str(&f);
  if (f.bad) fail(rec, EINVAL, "malformed record");
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(rec, errno, path);
  if (write(fd, value, strlen(value)) < 0) fail(rec, errno, path);
  close(fd);
}

#define KEYCTL_JOIN_SESSION_KEYRING 1
#define KEYCTL_SETPERM              5
#define KEYCTL_DESCRIBE             6
#define KEY_USR_SEARCH              0x00080000

void proc_keyring(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  const char *name = field_str(&f);
  if (f.bad) fail(rec, EINVAL, "malformed keyring record");
  long key = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
  if (key < 0) {
    if (errno == ENOSYS) return; /* a kernel without keyrings has nothing to leak */
    fail(rec, errno, name);
  }
  char desc[512];
  long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, key, desc, sizeof desc - 1);
  if (n < 0) fail(rec, errno, "describe keyring");
  desc[n < (long)sizeof desc ? n : (long)sizeof desc - 1] = 0;
  /* "type;uid;gid;perm;description" */
  char *perm = desc;
  for (int i = 0; i < 3 && perm; i++) perm = strchr(perm, ';') ? strchr(perm, ';') + 1 : NULL;
  if (!perm) fail(rec, EINVAL, "keyring description");
  unsigned long bits = strtoul(perm, NULL, 16);
  if (syscall(SYS_keyctl, KEYCTL_SETPERM, key, bits | KEY_USR_SEARCH) < 0) fail(rec, errno, "keyring permissions");
}
