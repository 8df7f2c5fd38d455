/* The launch plan's record tags, each with its fields in order, and the messages between droplet
 * and droplet-init. Generated from src/droplet/plan/protocol.ts by scripts/gen-plan-tags.mjs: edit
 * that file, then run `npm run gen:plan-tags`.
 *
 * Field kinds: u64 (8 bytes, little endian), str (UTF-8 with its NUL), bytes (as they are); "name
 * kind x count" repeats a field as many times as the earlier field count says.
 *
 * Messages, in the order they pass:
 *
 *   droplet -> launcher: posix_spawn: argv, env DROPLET_SYNC_FD=3+n, fds 0-2, 3..3+n-1
 *       (--preserve-fds n), the socket at 3+n
 *     when: create, run, exec; argv is only what ps shows ("droplet init ID FIFO ARGS...", "droplet
 *       exec ID ARGS...")
 *     then: keeps the socket close-on-exec and closes every fd above it
 *
 *   droplet -> launcher: the plan: [u32 length] "DPL1" records, each [u16 tag][u16 0][u32
 *       length][fields]; at most 64 MiB
 *     when: right after the spawn
 *     then: carries out the records up to Clone and clones the init
 *
 *   launcher -> droplet: "pid <N>\n"
 *     when: the init exists; N is its pid in droplet's pid namespace
 *     then: writes the id maps, places the init in its cgroups, sets its resources, then sends the
 *       go
 *
 *   droplet -> init: 'g', then three strings of [u32 length][bytes], each at most 1 MiB
 *     when: the host side is ready. The strings: the createContainer hooks' state, the
 *       startContainer hooks' state, the seccomp listener's payload (all empty for exec)
 *     then: carries out its records; on anything else, or end of file, exits 1 without a word
 *
 *   init -> droplet: "hooks\n"
 *     when: at SyncHooks: the container's filesystems are mounted, pivot_root is still to come
 *     then: runs the prestart and createRuntime hooks in its own namespaces, then sends 'c'
 *
 *   droplet -> init: 'c'
 *     when: the runtime hooks succeeded (when one fails droplet kills the init instead)
 *     then: goes on with its records; on anything else exits 1
 *
 *   init -> droplet: "ready\n"
 *     when: after its last record; then it closes the socket and writes 'r' to the launcher's pipe
 *     then: create: reaps the launcher, which exits 0 on the 'r'; run and exec in the foreground:
 *       waits for the launcher to exit with the container's status
 *
 *   launcher or init -> droplet: "error\t<record>\t<errno>\t<text>\t<detail>\n", then exit 1
 *     when: a step failed. record: its index in the plan, -1 for none (reading the plan); errno: 0
 *       when text is no strerror (a hook's failure); tabs and newlines in text and detail are
 *       spaces
 *     then: describeInitError: the record's what, detail where it helps, the reason, the record's
 *       config field
 *
 *   launcher -> droplet: end of file, and its exit status (128+n for signal n)
 *     when: it or the init died without a line
 *     then: InitDied, explained by what killed it (explainInitDeath)
 *
 *   droplet start -> init: one byte on exec.fifo
 *     when: start
 *     then: runs the startContainer hooks and execve()s the entrypoint
 *
 *   init -> console socket: the pty master (SCM_RIGHTS), named "/dev/ptmx"
 *     when: at Console
 *     then: the caller (conmon, containerd, droplet run) owns the container's terminal
 *
 *   init -> seccomp listener: the notify fd (SCM_RIGHTS) with the listener payload
 *     when: when the filter is loaded
 *     then: the listener answers the container's notified syscalls
 */
#ifndef DROPLET_PLAN_TAGS_H
#define DROPLET_PLAN_TAGS_H

enum plan_tag {
  /* the launcher stays as the init's parent and exits with its status (run, exec in the foreground)
   * (no fields) */
  T_MONITOR = 1,
  /* join a namespace: every path is opened before the first setns, then joined in plan order
   * nstype u64 (a CLONE_NEW* flag), path str */
  T_NS_JOIN = 2,
  /* clone the init into new namespaces; the launcher's records end here
   * flags u64 (CLONE_NEW* flags) */
  T_CLONE = 3,
  /* create exec.fifo and open it: the init blocks on it until droplet start (create only)
   * path str */
  T_FIFO = 4,
  /* new cgroup namespace, rooted at the cgroup the host placed the init in
   * (no fields) */
  T_UNSHARE_CGROUP = 5,
  /* sethostname
   * name str */
  T_HOSTNAME = 6,
  /* setdomainname
   * name str */
  T_DOMAINNAME = 7,
  /* bring lo up in the new network namespace
   * (no fields) */
  T_LOOPBACK = 8,
  /* set the propagation of /, bind the rootfs onto itself and open it: later paths resolve inside
   * it
   * path str, propagation u64 (MS_* flags for / while the container is built) */
  T_ROOTFS = 9,
  /* mount inside the rootfs
   * kind u64 (MountKind), source str, dest str, fstype str, flags u64 (MS_* flags), data str,
   *   propagation u64 (MS_* propagation flags, 0: none), attrSet u64 (MOUNT_ATTR_* set
   *   recursively), attrClr u64 (MOUNT_ATTR_* cleared recursively), tmpcopyup u64 (1: copy what the
   *   rootfs has at dest into the tmpfs) */
  T_MOUNT = 10,
  /* create a device node; where mknod is refused, bind the host's
   * dest str, type u64 (c, b, u or p as a character code), major u64, minor u64, mode u64, uid u64,
   *   gid u64 */
  T_DEVICE = 11,
  /* create a symlink inside the rootfs
   * target str, dest str */
  T_SYMLINK = 12,
  /* create a directory (and its parents) inside the rootfs
   * dest str */
  T_MKDIR = 13,
  /* hide a path: an empty read-only tmpfs over a directory, /dev/null over anything else
   * dest str */
  T_MASK = 14,
  /* bind a path read-only onto itself
   * dest str */
  T_READONLY = 15,
  /* pivot_root into the rootfs and detach the old root
   * noPivot u64 (1: move the rootfs onto / instead, for --no-pivot), propagation u64 (MS_* flags
   *   for the new root, 0: none) */
  T_PIVOT = 16,
  /* remount the new root read-only
   * (no fields) */
  T_ROOT_READONLY = 17,
  /* setrlimit
   * resource u64 (RLIMIT_* number), soft u64, hard u64 */
  T_RLIMIT = 18,
  /* the capability sets, as bit masks, applied with the user record
   * bounding u64, effective u64, inheritable u64, permitted u64, ambient u64 */
  T_CAPS = 19,
  /* drop the bounding set, set groups and ids, then the capability sets and the umask
   * uid u64, gid u64, ngroups u64, groups u64 x ngroups, umask u64 (0o022 where the config gives
   *   none) */
  T_USER = 20,
  /* PR_SET_NO_NEW_PRIVS
   * (no fields) */
  T_NO_NEW_PRIVS = 21,
  /* chdir
   * path str */
  T_CWD = 22,
  /* find the executable (PATH of env) now; execve it after the start byte, or at once without a
   * FIFO
   * argc u64, args str x argc, envc u64, env str x envc */
  T_EXEC = 23,
  /* load the seccomp filter, sending the notify fd to the listener connected earlier
   * flags u64 (SECCOMP_FILTER_FLAG_*), program bytes (struct sock_filter[]), listenerPath str,
   *   listenerMetadata str, notify u64 (1: the filter has SCMP_ACT_NOTIFY rules), late u64 (1: load
   *   it as the last step before ready, after no_new_privs) */
  T_SECCOMP = 24,
  /* write a sysctl of the init's namespaces
   * path str (under /proc/sys), value str */
  T_SYSCTL = 25,
  /* personality(2)
   * persona u64 */
  T_PERSONALITY = 26,
  /* ioprio_set
   * value u64 (class << 13 | level) */
  T_IO_PRIORITY = 27,
  /* sched_setattr
   * policy u64, flags u64, nice u64, priority u64, runtime u64, deadline u64, period u64 */
  T_SCHEDULER = 28,
  /* the AppArmor profile or SELinux label for the execve
   * path str (a /proc/self/attr file), label str */
  T_LSM_EXEC = 29,
  /* new time namespace with these offsets, entered by the init
   * offsets str (timens_offsets lines: clock secs nanosecs) */
  T_TIME_OFFSETS = 30,
  /* become uid and gid 0 of the user namespace, once the host wrote the id maps
   * (no fields) */
  T_USER_NS_ROOT = 31,
  /* join a new session keyring of this name
   * name str */
  T_KEYRING = 32,
  /* make a pty the process's stdio and controlling terminal, and send its master to the console
   * socket
   * socketPath str, rows u64, cols u64, bindConsole u64 (1: bind the pty onto /dev/console; 0 for
   *   exec) */
  T_CONSOLE = 33,
  /* run a hook in the container with the state on its stdin
   * phase u64 (HookPhase), path str, timeout u64 (seconds, 0: none), argc u64, args str x argc,
   *   envc u64, env str x envc */
  T_HOOK = 34,
  /* fds 3 up to 3+count-1 reach the container (--preserve-fds, LISTEN_FDS)
   * count u64 */
  T_PRESERVE_FDS = 35,
  /* stop until droplet has run the prestart and createRuntime hooks
   * (no fields) */
  T_SYNC_HOOKS = 36,
  /* connect to the seccomp listener while host paths are reachable
   * path str */
  T_SECCOMP_LISTENER = 37,
  /* connect to the console socket before joining the container (exec)
   * path str */
  T_CONSOLE_CONNECT = 38,
  /* chroot: the new root of a container without a mount namespace of its own
   * path str */
  T_CHROOT = 39,
};

enum mount_kind {
  MOUNT_FS = 0, /* a filesystem of its type */
  MOUNT_BIND = 1, /* a bind mount, remounted with its flags */
  MOUNT_REMOUNT = 2, /* new flags for what is mounted at dest */
};

enum hook_phase {
  HOOK_CREATE_CONTAINER = 0, /* run after the mounts, before pivot_root */
  HOOK_START_CONTAINER = 1, /* run after the start byte, just before execve */
};

#endif
