#define _GNU_SOURCE
#include "hooks.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int hook_phase(const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  return (int)field_u64(&f);
}

int hook_run(const struct record *r, const char *state, char *why, size_t size) {
  struct field_reader f;
  fields_open(&f, r);
  field_u64(&f);
  const char *path = field_str(&f);
  int timeout = (int)field_u64(&f);
  size_t argc = (size_t)field_u64(&f);
  if (argc > 4096) argc = 0;
  char **argv = calloc(argc + 2, sizeof *argv);
  for (size_t i = 0; argv && i < argc; i++) argv[i] = (char *)field_str(&f);
  if (argv && argc == 0) argv[0] = (char *)path;
  size_t envc = (size_t)field_u64(&f);
  if (envc > 4096) envc = 0;
  char **envp = calloc(envc + 1, sizeof *envp);
  for (size_t i = 0; envp && i < envc; i++) envp[i] = (char *)field_str(&f);
  int in[2] = {-1, -1};
  pid_t pid = -1;
  if (f.bad || !argv || !envp)
    snprintf(why, size, "malformed hook record");
  else if (pipe2(in, O_CLOEXEC) < 0)
    snprintf(why, size, "pipe: %s", strerror(errno));
  else if ((pid = fork()) < 0)
    snprintf(why, size, "fork: %s", strerror(errno));
  if (pid < 0) {
    /* every failure before the fork: nothing runs, the arrays go */
    if (in[0] >= 0) close(in[0]), close(in[1]);
    free(argv);
    free(envp);
    return -1;
  }
  if (pid == 0) {
    dup2(in[0], 0);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL);
    execve(path, argv, envp);
    dprintf(2, "droplet: hook %s: %s\n", path, strerror(errno));
    _exit(127);
  }
  close(in[0]);
  /* A hook that does not read its stdin must not block us: the state is small, and a
   * closed pipe only costs the hook its input. */
  signal(SIGPIPE, SIG_IGN);
  if (write(in[1], state, strlen(state)) < 0 && errno != EPIPE) { /* the hook left early */
  }
  close(in[1]);
  free(argv);
  free(envp);

  int status = 0;
  if (timeout > 0) {
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int rc;
    do rc = poll(&p, 1, timeout * 1000);
    while (rc < 0 && errno == EINTR);
    if (pidfd >= 0 && rc == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      close(pidfd);
      snprintf(why, size, "timed out after %ds", timeout);
      return -1;
    }
    if (pidfd >= 0) close(pidfd);
  }
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      snprintf(why, size, "waitpid: %s", strerror(errno));
      return -1;
    }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  if (WIFEXITED(status))
    snprintf(why, size, "exit status %d", WEXITSTATUS(status));
  else
    snprintf(why, size, "killed by signal %d", WTERMSIG(status));
  return -1;
}
