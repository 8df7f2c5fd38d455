/* The N-API addon: the few syscalls droplet needs in-process that Node does not offer.
 *
 * spawnInit: starts droplet-init with posix_spawn (clone(CLONE_VM|CLONE_VFORK) in glibc,
 *   safe in Node's multithreaded process, and far cheaper than child_process) with one end
 *   of a socketpair as its fd 3 + preserve (DROPLET_SYNC_FD, its only environment variable),
 *   keeping fds 3..3+preserve-1 (--preserve-fds); returns [pid, fd of the other end].
 * waitPid: waits for a child droplet spawned this way; returns its exit code, or 128+signal. */
#define _GNU_SOURCE
#include "napi_util.h"
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static napi_value spawn_init(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  uint32_t n = 0;
  int32_t preserve = 0;
  if (argc < 3 || napi_get_array_length(env, args[1], &n) != napi_ok || napi_get_value_int32(env, args[2], &preserve) != napi_ok ||
      preserve < 0) {
    napi_throw_type_error(env, NULL, "spawnInit(path, argv, preserve)");
    return NULL;
  }
  /* An fd that is not open would let the socketpair take its number (droplet checks that
   * the open ones are the caller's, not Node's). */
  for (int fd = 3; fd < 3 + preserve; fd++) {
    if (fcntl(fd, F_GETFD) < 0) {
      char msg[128];
      snprintf(msg, sizeof msg, "--preserve-fds %d: fd %d is not open", preserve, fd);
      napi_throw_error(env, NULL, msg);
      return NULL;
    }
  }
  char *path = string_of(env, args[0], NULL);
  char **argv = strings_of(env, args[1]);

  napi_value result = NULL;
  int sv[2] = {-1, -1};
  /* The init's whole environment: the caller's is not the container's, and a waiting init
   * would hold it (and show it in /proc) until start. */
  char sync_var[32];
  snprintf(sync_var, sizeof sync_var, "DROPLET_SYNC_FD=%d", 3 + preserve);
  char *envp[] = {sync_var, NULL};
  if (!argv || !path) {
    napi_throw_error(env, NULL, "spawnInit: out of memory");
    goto out;
  }
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    throw_errno(env, "socketpair", errno);
    goto out;
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  /* stdio is inherited; dup2 of an fd onto itself clears the close-on-exec Node set on it. */
  for (int fd = 0; fd < 3 + preserve; fd++) posix_spawn_file_actions_adddup2(&fa, fd, fd);
  posix_spawn_file_actions_adddup2(&fa, sv[1], 3 + preserve);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid;
  int rc = posix_spawn(&pid, path, &fa, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(sv[1]);
  if (rc != 0) {
    close(sv[0]);
    throw_errno(env, path, rc);
    goto out;
  }
  napi_value jpid, jfd;
  napi_create_array_with_length(env, 2, &result);
  napi_create_int32(env, pid, &jpid);
  napi_create_int32(env, sv[0], &jfd);
  napi_set_element(env, result, 0, jpid);
  napi_set_element(env, result, 1, jfd);
out:
  free_strings(argv);
  free(path);
  return result;
}

static napi_value wait_pid(napi_env env, napi_callback_info info) {
  int32_t pid;
  if (!one_int_arg(env, info, &pid, "waitPid(pid)")) return NULL;
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return throw_errno(env, "waitpid", errno);
  napi_value out;
  napi_create_int32(env, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), &out);
  return out;
}

void register_cgroup_bpf(napi_env env, napi_value exports);   /* cgroup_bpf.c */
void register_console(napi_env env, napi_value exports);      /* console.c */
void register_flock(napi_env env, napi_value exports);        /* flock.c */
void register_fs_nodes(napi_env env, napi_value exports);     /* fs_nodes.c */
void register_hook_spawn(napi_env env, napi_value exports);   /* hook_spawn.c */
void register_seqpacket(napi_env env, napi_value exports);    /* seqpacket.c */
void register_termios(napi_env env, napi_value exports);      /* termios.c */
void register_open_in_root(napi_env env, napi_value exports); /* open_in_root.c */
void register_peer_cred(napi_env env, napi_value exports);    /* peer_cred.c */
void register_fd_flags(napi_env env, napi_value exports);     /* fd_flags.c */

NAPI_MODULE_INIT() {
  register_cgroup_bpf(env, exports);
  register_console(env, exports);
  register_flock(env, exports);
  register_fs_nodes(env, exports);
  register_hook_spawn(env, exports);
  register_seqpacket(env, exports);
  register_termios(env, exports);
  register_open_in_root(env, exports);
  register_peer_cred(env, exports);
  register_fd_flags(env, exports);
  napi_property_descriptor props[] = {
      {"spawnInit", NULL, spawn_init, NULL, NULL, NULL, napi_default, NULL},
      {"waitPid", NULL, wait_pid, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
