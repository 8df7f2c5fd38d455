/** Record tags of the launch plan; must match native/init/plan.h. */
export const enum Tag {
  Monitor = 1,
  NsJoin = 2,
  Clone = 3,
  Fifo = 4,
  UnshareCgroup = 5,
  Hostname = 6,
  Domainname = 7,
  Loopback = 8,
  Rootfs = 9,
  Mount = 10,
  Device = 11,
  Symlink = 12,
  Mkdir = 13,
  Mask = 14,
  Readonly = 15,
  Pivot = 16,
  RootReadonly = 17,
  Rlimit = 18,
  Caps = 19,
  User = 20,
  NoNewPrivs = 21,
  Cwd = 22,
  Exec = 23,
}

export const enum MountKind {
  Fs = 0,
  Bind = 1,
  Remount = 2,
}
