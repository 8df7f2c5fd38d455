/** The launch plan and the messages between droplet and droplet-init, defined once.
 *
 * droplet builds records of these tags with these fields (build.ts, exec-plan.ts) and
 * encodes them (encode.ts); droplet-init reads each record's fields in this order
 * (native/init). scripts/gen-plan-tags.mjs turns this file into the const enums of tags.ts
 * and the C header native/init/plan-tags.h; a unit test fails when either differs from what
 * it makes. droplet itself never loads this file: its hot path sees only tags.ts, whose
 * const enums are inlined as numbers. */

/** u64: 8 bytes, little endian (a negative number in two's complement); str: UTF-8 with its
 * NUL; bytes: as they are. */
export type FieldKind = 'u64' | 'str' | 'bytes';

export interface FieldSchema {
  name: string;
  kind: FieldKind;
  /** a list: the field repeats as many times as the earlier u64 field of this name says */
  count?: string;
  /** what a number means, where its name does not say */
  doc?: string;
}

export interface RecordSchema {
  /** its member of the Tag enum; in C, T_ and the name in upper snake case */
  name: string;
  tag: number;
  fields: FieldSchema[];
  /** what droplet-init does with it */
  doc: string;
}

const u64 = (name: string, doc?: string): FieldSchema => ({ name, kind: 'u64', doc });
const str = (name: string, doc?: string): FieldSchema => ({ name, kind: 'str', doc });
const bytes = (name: string, doc?: string): FieldSchema => ({ name, kind: 'bytes', doc });
/** A count, then that many fields. */
const list = (count: string, name: string, kind: FieldKind): FieldSchema[] => [u64(count), { name, kind, count }];

/** The records in tag order. Those before Clone are the launcher's (it joins namespaces and
 * clones the init); the init carries out the rest, in plan order. */
export const RECORDS: readonly RecordSchema[] = [
  {
    name: 'Monitor',
    tag: 1,
    fields: [],
    doc: "the launcher stays as the init's parent and exits with its status (run, exec in the foreground)",
  },
  {
    name: 'NsJoin',
    tag: 2,
    fields: [u64('nstype', 'a CLONE_NEW* flag'), str('path')],
    doc: 'join a namespace: every path is opened before the first setns, then joined in plan order',
  },
  {
    name: 'Clone',
    tag: 3,
    fields: [u64('flags', 'CLONE_NEW* flags')],
    doc: "clone the init into new namespaces; the launcher's records end here",
  },
  {
    name: 'Fifo',
    tag: 4,
    fields: [str('path')],
    doc: 'create exec.fifo and open it: the init blocks on it until droplet start (create only)',
  },
  { name: 'UnshareCgroup', tag: 5, fields: [], doc: 'new cgroup namespace, rooted at the cgroup the host placed the init in' },
  { name: 'Hostname', tag: 6, fields: [str('name')], doc: 'sethostname' },
  { name: 'Domainname', tag: 7, fields: [str('name')], doc: 'setdomainname' },
  { name: 'Loopback', tag: 8, fields: [], doc: 'bring lo up in the new network namespace' },
  {
    name: 'Rootfs',
    tag: 9,
    fields: [str('path'), u64('propagation', 'MS_* flags for / while the container is built')],
    doc: 'set the propagation of /, bind the rootfs onto itself and open it: later paths resolve inside it',
  },
  {
    name: 'Mount',
    tag: 10,
    fields: [
      u64('kind', 'MountKind'),
      str('source'),
      str('dest'),
      str('fstype'),
      u64('flags', 'MS_* flags'),
      str('data'),
      u64('propagation', 'MS_* propagation flags, 0: none'),
      u64('attrSet', 'MOUNT_ATTR_* set recursively'),
      u64('attrClr', 'MOUNT_ATTR_* cleared recursively'),
      u64('tmpcopyup', '1: copy what the rootfs has at dest into the tmpfs'),
    ],
    doc: 'mount inside the rootfs',
  },
  {
    name: 'Device',
    tag: 11,
    fields: [str('dest'), u64('type', 'c, b, u or p as a character code'), u64('major'), u64('minor'), u64('mode'), u64('uid'), u64('gid')],
    doc: "create a device node; where mknod is refused, bind the host's",
  },
  { name: 'Symlink', tag: 12, fields: [str('target'), str('dest')], doc: 'create a symlink inside the rootfs' },
  { name: 'Mkdir', tag: 13, fields: [str('dest')], doc: 'create a directory (and its parents) inside the rootfs' },
  {
    name: 'Mask',
    tag: 14,
    fields: [str('dest')],
    doc: 'hide a path: an empty read-only tmpfs over a directory, /dev/null over anything else',
  },
  { name: 'Readonly', tag: 15, fields: [str('dest')], doc: 'bind a path read-only onto itself' },
  {
    name: 'Pivot',
    tag: 16,
    fields: [
      u64('noPivot', '1: move the rootfs onto / instead, for --no-pivot'),
      u64('propagation', 'MS_* flags for the new root, 0: none'),
    ],
    doc: 'pivot_root into the rootfs and detach the old root',
  },
  { name: 'RootReadonly', tag: 17, fields: [], doc: 'remount the new root read-only' },
  { name: 'Rlimit', tag: 18, fields: [u64('resource', 'RLIMIT_* number'), u64('soft'), u64('hard')], doc: 'setrlimit' },
  {
    name: 'Caps',
    tag: 19,
    fields: [u64('bounding'), u64('effective'), u64('inheritable'), u64('permitted'), u64('ambient')],
    doc: 'the capability sets, as bit masks, applied with the user record',
  },
  {
    name: 'User',
    tag: 20,
    fields: [u64('uid'), u64('gid'), ...list('ngroups', 'groups', 'u64'), u64('umask', '0o022 where the config gives none')],
    doc: 'drop the bounding set, set groups and ids, then the capability sets and the umask',
  },
  { name: 'NoNewPrivs', tag: 21, fields: [], doc: 'PR_SET_NO_NEW_PRIVS' },
  { name: 'Cwd', tag: 22, fields: [str('path')], doc: 'chdir' },
  {
    name: 'Exec',
    tag: 23,
    fields: [...list('argc', 'args', 'str'), ...list('envc', 'env', 'str')],
    doc: 'find the executable (PATH of env) now; execve it after the start byte, or at once without a FIFO',
  },
  {
    name: 'Seccomp',
    tag: 24,
    fields: [
      u64('flags', 'SECCOMP_FILTER_FLAG_*'),
      bytes('program', 'struct sock_filter[]'),
      str('listenerPath'),
      str('listenerMetadata'),
      u64('notify', '1: the filter has SCMP_ACT_NOTIFY rules'),
      u64('late', '1: load it as the last step before ready, after no_new_privs'),
    ],
    doc: 'load the seccomp filter, sending the notify fd to the listener connected earlier',
  },
  { name: 'Sysctl', tag: 25, fields: [str('path', 'under /proc/sys'), str('value')], doc: "write a sysctl of the init's namespaces" },
  { name: 'Personality', tag: 26, fields: [u64('persona')], doc: 'personality(2)' },
  { name: 'IoPriority', tag: 27, fields: [u64('value', 'class << 13 | level')], doc: 'ioprio_set' },
  {
    name: 'Scheduler',
    tag: 28,
    fields: [u64('policy'), u64('flags'), u64('nice'), u64('priority'), u64('runtime'), u64('deadline'), u64('period')],
    doc: 'sched_setattr',
  },
  {
    name: 'LsmExec',
    tag: 29,
    fields: [str('path', 'a /proc/self/attr file'), str('label')],
    doc: 'the AppArmor profile or SELinux label for the execve',
  },
  {
    name: 'TimeOffsets',
    tag: 30,
    fields: [str('offsets', 'timens_offsets lines: clock secs nanosecs')],
    doc: 'new time namespace with these offsets, entered by the init',
  },
  { name: 'UserNsRoot', tag: 31, fields: [], doc: 'become uid and gid 0 of the user namespace, once the host wrote the id maps' },
  { name: 'Keyring', tag: 32, fields: [str('name')], doc: 'join a new session keyring of this name' },
  {
    name: 'Console',
    tag: 33,
    fields: [str('socketPath'), u64('rows'), u64('cols'), u64('bindConsole', '1: bind the pty onto /dev/console; 0 for exec')],
    doc: "make a pty the process's stdio and controlling terminal, and send its master to the console socket",
  },
  {
    name: 'Hook',
    tag: 34,
    fields: [
      u64('phase', 'HookPhase'),
      str('path'),
      u64('timeout', 'seconds, 0: none'),
      ...list('argc', 'args', 'str'),
      ...list('envc', 'env', 'str'),
    ],
    doc: 'run a hook in the container with the state on its stdin',
  },
  { name: 'PreserveFds', tag: 35, fields: [u64('count')], doc: 'fds 3 up to 3+count-1 reach the container (--preserve-fds, LISTEN_FDS)' },
  { name: 'SyncHooks', tag: 36, fields: [], doc: 'stop until droplet has run the prestart and createRuntime hooks' },
  { name: 'SeccompListener', tag: 37, fields: [str('path')], doc: 'connect to the seccomp listener while host paths are reachable' },
  { name: 'ConsoleConnect', tag: 38, fields: [str('path')], doc: 'connect to the console socket before joining the container (exec)' },
  { name: 'Chroot', tag: 39, fields: [str('path')], doc: 'chroot: the new root of a container without a mount namespace of its own' },
];

export interface EnumSchema {
  /** the TypeScript const enum; in C, the enum name in lower snake case */
  name: string;
  /** the C prefix of its members */
  prefix: string;
  members: ReadonlyArray<{ name: string; value: number; doc: string }>;
}

/** The values of a record's number fields that the C init tells apart. */
export const ENUMS: readonly EnumSchema[] = [
  {
    name: 'MountKind',
    prefix: 'MOUNT_',
    members: [
      { name: 'Fs', value: 0, doc: 'a filesystem of its type' },
      { name: 'Bind', value: 1, doc: 'a bind mount, remounted with its flags' },
      { name: 'Remount', value: 2, doc: 'new flags for what is mounted at dest' },
    ],
  },
  {
    name: 'HookPhase',
    prefix: 'HOOK_',
    members: [
      { name: 'CreateContainer', value: 0, doc: 'run after the mounts, before pivot_root' },
      { name: 'StartContainer', value: 1, doc: 'run after the start byte, just before execve' },
    ],
  },
];

export interface SyncMessage {
  from: string;
  to: string;
  /** the bytes on the wire */
  message: string;
  when: string;
  /** what the receiver does */
  receiverDoes: string;
}

/** Everything that passes between droplet and droplet-init, in the order it passes. The sync
 * socket is a stream socketpair; the launcher and the init share its far end. Strings that
 * droplet reads are lines; what the init reads has a length or a fixed size. */
export const SYNC_MESSAGES: readonly SyncMessage[] = [
  {
    from: 'droplet',
    to: 'launcher',
    message: 'posix_spawn: argv, env DROPLET_SYNC_FD=3+n, fds 0-2, 3..3+n-1 (--preserve-fds n), the socket at 3+n',
    when: 'create, run, exec; argv is only what ps shows ("droplet init ID FIFO ARGS...", "droplet exec ID ARGS...")',
    receiverDoes: 'keeps the socket close-on-exec and closes every fd above it',
  },
  {
    from: 'droplet',
    to: 'launcher',
    message: 'the plan: [u32 length] "DPL1" records, each [u16 tag][u16 0][u32 length][fields]; at most 64 MiB',
    when: 'right after the spawn',
    receiverDoes: 'carries out the records up to Clone and clones the init',
  },
  {
    from: 'launcher',
    to: 'droplet',
    message: '"pid <N>\\n"',
    when: "the init exists; N is its pid in droplet's pid namespace",
    receiverDoes: 'writes the id maps, places the init in its cgroups, sets its resources, then sends the go',
  },
  {
    from: 'droplet',
    to: 'init',
    message: "'g', then three strings of [u32 length][bytes], each at most 1 MiB",
    when: "the host side is ready. The strings: the createContainer hooks' state, the startContainer hooks' state, the seccomp listener's payload (all empty for exec)",
    receiverDoes: 'carries out its records; on anything else, or end of file, exits 1 without a word',
  },
  {
    from: 'init',
    to: 'droplet',
    message: '"hooks\\n"',
    when: "at SyncHooks: the container's filesystems are mounted, pivot_root is still to come",
    receiverDoes: "runs the prestart and createRuntime hooks in its own namespaces, then sends 'c'",
  },
  {
    from: 'droplet',
    to: 'init',
    message: "'c'",
    when: 'the runtime hooks succeeded (when one fails droplet kills the init instead)',
    receiverDoes: 'goes on with its records; on anything else exits 1',
  },
  {
    from: 'init',
    to: 'droplet',
    message: '"ready\\n"',
    when: "after its last record; then it closes the socket and writes 'r' to the launcher's pipe",
    receiverDoes:
      "create: reaps the launcher, which exits 0 on the 'r'; run and exec in the foreground: waits for the launcher to exit with the container's status",
  },
  {
    from: 'launcher or init',
    to: 'droplet',
    message: '"error\\t<record>\\t<errno>\\t<text>\\t<detail>\\n", then exit 1',
    when: "a step failed. record: its index in the plan, -1 for none (reading the plan); errno: 0 when text is no strerror (a hook's failure); tabs and newlines in text and detail are spaces",
    receiverDoes: "describeInitError: the record's what, detail where it helps, the reason, the record's config field",
  },
  {
    from: 'launcher',
    to: 'droplet',
    message: 'end of file, and its exit status (128+n for signal n)',
    when: 'it or the init died without a line',
    receiverDoes: 'InitDied, explained by what killed it (explainInitDeath)',
  },
  {
    from: 'droplet start',
    to: 'init',
    message: 'one byte on exec.fifo',
    when: 'start',
    receiverDoes: 'runs the startContainer hooks and execve()s the entrypoint',
  },
  {
    from: 'init',
    to: 'console socket',
    message: 'the pty master (SCM_RIGHTS), named "/dev/ptmx"',
    when: 'at Console',
    receiverDoes: "the caller (conmon, containerd, droplet run) owns the container's terminal",
  },
  {
    from: 'init',
    to: 'seccomp listener',
    message: 'the notify fd (SCM_RIGHTS) with the listener payload',
    when: 'when the filter is loaded',
    receiverDoes: "the listener answers the container's notified syscalls",
  },
];
