/* The hooks droplet itself runs (prestart, createRuntime, poststart, poststop), as its
 * children. A droplet killed while a hook runs must not leave the hook behind: the hook dies
 * with droplet (PR_SET_PDEATHSIG), and leads a process group of its own, which droplet notes
 * in the container's state directory so that `delete --force` kills what the hook started.
 *
 * spawnHook(path, argv, env, stdin) -> [pid, stderr fd]: the hook reads stdin (the state
 *   document) from a memfd and writes its stderr to another one, which droplet reads once the
 *   hook has exited; stdout is droplet's. A hook that cannot be executed is thrown as
 *   "path: reason".
 * waitHook(pid, timeoutMs) -> the exit status, 256 + the signal that killed it, or -1 when
 *   timeoutMs (0: none) passed first; the hook then still runs, for the caller to kill. */
#define _GNU_SOURCE
#include "napi_util.h"
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int memfd_holding(const char *name, const char *text, size_t len) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return -1;
  for (size_t off = 0; off < len;) {
    ssize_t n = write(fd, text + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return -1;
    }
    off += (size_t)n;
  }
  lseek(fd, 0, SEEK_SET);
  return fd;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static _Noreturn void exec_hook(pid_t parent, int in, int err, int report, const char *path, char **argv, char **envp) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127); /* droplet died before the line above */
  dup2(in, 0);
  dup2(err, 2);
  fcntl(1, F_SETFD, 0); /* Node marks stdout close-on-exec */
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execve(path, argv, envp);
  int e = errno;
  if (write(report, &e, sizeof e) < 0) { /* droplet sees end-of-file and status 127 */
  }
  _exit(127);
}

static napi_value spawn_hook(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value args[4];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  size_t input_len = 0;
  char *path = argc == 4 ? string_of(env, args[0], NULL) : NULL;
  char **argv = argc == 4 ? strings_of(env, args[1]) : NULL;
  char **envp = argc == 4 ? strings_of(env, args[2]) : NULL;
  char *input = argc == 4 ? string_of(env, args[3], &input_len) : NULL;
  napi_value result = NULL;
  int in = -1, err = -1, report[2] = {-1, -1};
  if (!path || !argv || !envp || !input) {
    napi_throw_type_error(env, NULL, "spawnHook(path, argv, env, stdin)");
    goto out;
  }
  in = memfd_holding("hook-stdin", input, input_len);
  err = memfd_create("hook-stderr", MFD_CLOEXEC);
  if (in < 0 || err < 0 || pipe2(report, O_CLOEXEC) < 0) {
    throw_errno(env, "spawn hook", errno);
    goto out;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) exec_hook(parent, in, err, report[1], path, argv, envp);
  if (pid < 0) {
    throw_errno(env, "fork", errno);
    goto out;
  }
  close(report[1]);
  report[1] = -1;
  int exec_errno = 0;
  ssize_t n;
  do n = read(report[0], &exec_errno, sizeof exec_errno);
  while (n < 0 && errno == EINTR);
  if (n == (ssize_t)sizeof exec_errno) {
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    throw_errno(env, path, exec_errno);
    goto out;
  }
  napi_value jpid, jerr;
  napi_create_array_with_length(env, 2, &result);
  napi_create_int32(env, pid, &jpid);
  napi_create_int32(env, err, &jerr);
  napi_set_element(env, result, 0, jpid);
  napi_set_element(env, result, 1, jerr);
  err = -1; /* the caller's now */
out:
  if (in >= 0) close(in);
  if (err >= 0) close(err);
  if (report[0] >= 0) close(report[0]);
  if (report[1] >= 0) close(report[1]);
  free(path);
  free(input);
  free_strings(argv);
  free_strings(envp);
  return result;
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static napi_value wait_hook(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t pid, timeout;
  if (argc < 2 || napi_get_value_int32(env, args[0], &pid) != napi_ok || napi_get_value_int32(env, args[1], &timeout) != napi_ok ||
      pid <= 0) {
    napi_throw_type_error(env, NULL, "waitHook(pid, timeoutMs)");
    return NULL;
  }
  napi_value out;
  if (timeout > 0) {
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) return throw_errno(env, "pidfd_open", errno);
    long long deadline = now_ms() + timeout;
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int rc;
    do rc = poll(&p, 1, (int)(deadline - now_ms() > 0 ? deadline - now_ms() : 0));
    while (rc < 0 && errno == EINTR);
    close(pidfd);
    if (rc == 0) {
      napi_create_int32(env, -1, &out);
      return out;
    }
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return throw_errno(env, "waitpid", errno);
  napi_create_int32(env, WIFEXITED(status) ? WEXITSTATUS(status) : 256 + WTERMSIG(status), &out);
  return out;
}

void register_hook_spawn(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"spawnHook", NULL, spawn_hook, NULL, NULL, NULL, napi_default, NULL},
      {"waitHook", NULL, wait_hook, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
