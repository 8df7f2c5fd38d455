import { invalid } from '../../lib/json-reader.js';

/** mount(2) flags, from <sys/mount.h>. */
export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
} as const;

/** The option words runc accepts, as [flag, set (true) or clear (false)]. */
const FLAG_OPTIONS: Record<string, [number, boolean]> = {
  async: [MS.SYNCHRONOUS, false],
  atime: [MS.NOATIME, false],
  bind: [MS.BIND, true],
  defaults: [0, true],
  dev: [MS.NODEV, false],
  diratime: [MS.NODIRATIME, false],
  dirsync: [MS.DIRSYNC, true],
  exec: [MS.NOEXEC, false],
  mand: [MS.MANDLOCK, true],
  noatime: [MS.NOATIME, true],
  nodev: [MS.NODEV, true],
  nodiratime: [MS.NODIRATIME, true],
  noexec: [MS.NOEXEC, true],
  nomand: [MS.MANDLOCK, false],
  norelatime: [MS.RELATIME, false],
  nostrictatime: [MS.STRICTATIME, false],
  nosuid: [MS.NOSUID, true],
  nosymfollow: [MS.NOSYMFOLLOW, true],
  rbind: [MS.BIND | MS.REC, true],
  relatime: [MS.RELATIME, true],
  remount: [MS.REMOUNT, true],
  ro: [MS.RDONLY, true],
  rw: [MS.RDONLY, false],
  silent: [MS.SILENT, true],
  loud: [MS.SILENT, false],
  strictatime: [MS.STRICTATIME, true],
  suid: [MS.NOSUID, false],
  sync: [MS.SYNCHRONOUS, true],
  lazytime: [MS.LAZYTIME, true],
  nolazytime: [MS.LAZYTIME, false],
};

export const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** mount_setattr(2) attributes, from <linux/mount.h>. */
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  ATIME_MASK: 0x70,
  RELATIME: 0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  NOSYMFOLLOW: 0x200000,
} as const;

/** The recursive options (runc's table), applied to the whole mount tree with mount_setattr:
 * [attribute, set (true) or clear (false)]. The atime ones replace the atime setting. */
const RECURSIVE_OPTIONS: Record<string, [number, boolean]> = {
  rro: [MOUNT_ATTR.RDONLY, true],
  rrw: [MOUNT_ATTR.RDONLY, false],
  rnosuid: [MOUNT_ATTR.NOSUID, true],
  rsuid: [MOUNT_ATTR.NOSUID, false],
  rnodev: [MOUNT_ATTR.NODEV, true],
  rdev: [MOUNT_ATTR.NODEV, false],
  rnoexec: [MOUNT_ATTR.NOEXEC, true],
  rexec: [MOUNT_ATTR.NOEXEC, false],
  rnodiratime: [MOUNT_ATTR.NODIRATIME, true],
  rdiratime: [MOUNT_ATTR.NODIRATIME, false],
  rnosymfollow: [MOUNT_ATTR.NOSYMFOLLOW, true],
  rsymfollow: [MOUNT_ATTR.NOSYMFOLLOW, false],
};
const RECURSIVE_ATIME: Record<string, number> = {
  rrelatime: MOUNT_ATTR.RELATIME,
  rnorelatime: MOUNT_ATTR.STRICTATIME,
  rnoatime: MOUNT_ATTR.NOATIME,
  ratime: MOUNT_ATTR.RELATIME,
  rstrictatime: MOUNT_ATTR.STRICTATIME,
  rnostrictatime: MOUNT_ATTR.RELATIME,
};

/** Options that need more than droplet does; refused, never ignored. */
const UNSUPPORTED = /^(idmap|ridmap|copy-symlink|src-nofollow|dest-nofollow)$/;

export interface ParsedOptions {
  flags: number;
  propagation: number;
  data: string;
  bind: boolean;
  /** mount_setattr(AT_RECURSIVE) attributes to set and to clear */
  attrSet: number;
  attrClr: number;
  /** tmpfs: copy what the image has at the destination into the new tmpfs */
  tmpcopyup: boolean;
}

export function parseMountOptions(options: string[], field: string): ParsedOptions {
  let flags = 0;
  let propagation = 0;
  let attrSet = 0;
  let attrClr = 0;
  let tmpcopyup = false;
  const data: string[] = [];
  options.forEach((opt, i) => {
    /* own keys only: "constructor" or "toString" is filesystem data, not Object.prototype's */
    const f = Object.hasOwn(FLAG_OPTIONS, opt) ? FLAG_OPTIONS[opt] : undefined;
    const p = Object.hasOwn(PROPAGATION, opt) ? PROPAGATION[opt] : undefined;
    const r = Object.hasOwn(RECURSIVE_OPTIONS, opt) ? RECURSIVE_OPTIONS[opt] : undefined;
    const atime = Object.hasOwn(RECURSIVE_ATIME, opt) ? RECURSIVE_ATIME[opt] : undefined;
    if (f) {
      flags = f[1] ? flags | f[0] : flags & ~f[0];
    } else if (p !== undefined) {
      propagation = p;
    } else if (r) {
      if (r[1]) {
        attrSet |= r[0];
        attrClr &= ~r[0];
      } else {
        attrClr |= r[0];
        attrSet &= ~r[0];
      }
    } else if (atime !== undefined) {
      attrSet = (attrSet & ~MOUNT_ATTR.ATIME_MASK) | atime;
      attrClr |= MOUNT_ATTR.ATIME_MASK;
    } else if (opt === 'tmpcopyup') {
      tmpcopyup = true;
    } else if (UNSUPPORTED.test(opt) || opt.startsWith('idmap=')) {
      throw invalid(`${field}.options[${i}]`, `"${opt}" is not supported by this version of droplet`);
    } else {
      data.push(opt);
    }
  });
  return { flags, propagation, data: data.join(','), bind: (flags & MS.BIND) !== 0, attrSet, attrClr, tmpcopyup };
}
