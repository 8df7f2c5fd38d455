/* Generated from src/droplet/plan/protocol.ts by scripts/gen-plan-tags.mjs: edit that file, then
 * run `npm run gen:plan-tags`. */

/** Record tags of the launch plan; their fields are in protocol.ts. */
export const enum Tag {
  /** the launcher stays as the init's parent and exits with its status (run, exec in the foreground) */
  Monitor = 1,
  /** join a namespace: every path is opened before the first setns, then joined in plan order */
  NsJoin = 2,
  /** clone the init into new namespaces; the launcher's records end here */
  Clone = 3,
  /** create exec.fifo and open it: the init blocks on it until droplet start (create only) */
  Fifo = 4,
  /** new cgroup namespace, rooted at the cgroup the host placed the init in */
  UnshareCgroup = 5,
  /** sethostname */
  Hostname = 6,
  /** setdomainname */
  Domainname = 7,
  /** bring lo up in the new network namespace */
  Loopback = 8,
  /** set the propagation of /, bind the rootfs onto itself and open it: later paths resolve inside it */
  Rootfs = 9,
  /** mount inside the rootfs */
  Mount = 10,
  /** create a device node; where mknod is refused, bind the host's */
  Device = 11,
  /** create a symlink inside the rootfs */
  Symlink = 12,
  /** create a directory (and its parents) inside the rootfs */
  Mkdir = 13,
  /** hide a path: an empty read-only tmpfs over a directory, /dev/null over anything else */
  Mask = 14,
  /** bind a path read-only onto itself */
  Readonly = 15,
  /** pivot_root into the rootfs and detach the old root */
  Pivot = 16,
  /** remount the new root read-only */
  RootReadonly = 17,
  /** setrlimit */
  Rlimit = 18,
  /** the capability sets, as bit masks, applied with the user record */
  Caps = 19,
  /** drop the bounding set, set groups and ids, then the capability sets and the umask */
  User = 20,
  /** PR_SET_NO_NEW_PRIVS */
  NoNewPrivs = 21,
  /** chdir */
  Cwd = 22,
  /** find the executable (PATH of env) now; execve it after the start byte, or at once without a FIFO */
  Exec = 23,
  /** load the seccomp filter, sending the notify fd to the listener connected earlier */
  Seccomp = 24,
  /** write a sysctl of the init's namespaces */
  Sysctl = 25,
  /** personality(2) */
  Personality = 26,
  /** ioprio_set */
  IoPriority = 27,
  /** sched_setattr */
  Scheduler = 28,
  /** the AppArmor profile or SELinux label for the execve */
  LsmExec = 29,
  /** new time namespace with these offsets, entered by the init */
  TimeOffsets = 30,
  /** become uid and gid 0 of the user namespace, once the host wrote the id maps */
  UserNsRoot = 31,
  /** join a new session keyring of this name */
  Keyring = 32,
  /** make a pty the process's stdio and controlling terminal, and send its master to the console socket */
  Console = 33,
  /** run a hook in the container with the state on its stdin */
  Hook = 34,
  /** fds 3 up to 3+count-1 reach the container (--preserve-fds, LISTEN_FDS) */
  PreserveFds = 35,
  /** stop until droplet has run the prestart and createRuntime hooks */
  SyncHooks = 36,
  /** connect to the seccomp listener while host paths are reachable */
  SeccompListener = 37,
  /** connect to the console socket before joining the container (exec) */
  ConsoleConnect = 38,
  /** chroot: the new root of a container without a mount namespace of its own */
  Chroot = 39,
}

/** Values of MountKind fields. */
export const enum MountKind {
  /** a filesystem of its type */
  Fs = 0,
  /** a bind mount, remounted with its flags */
  Bind = 1,
  /** new flags for what is mounted at dest */
  Remount = 2,
}

/** Values of HookPhase fields. */
export const enum HookPhase {
  /** run after the mounts, before pivot_root */
  CreateContainer = 0,
  /** run after the start byte, just before execve */
  StartContainer = 1,
}
