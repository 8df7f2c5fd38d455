import { isAbsolute, join, posix } from 'node:path';
import { invalid } from '../../lib/json-reader.js';
import type { Device, Hook, NamespaceType, Process, Spec } from '../../oci/spec.js';
import type { CgroupDir } from '../../linux/cgroups/container-cgroup.js';
import type { CompiledSeccomp } from '../seccomp/compile.js';
import { capabilityMasks } from './capabilities.js';
import { expandCgroupMount } from './cgroup-mount.js';
import type { PlanRecord } from './encode.js';
import { MS, PROPAGATION, parseMountOptions } from './mount-options.js';
import { rlimitNumber, rlimitText } from './rlimits.js';
import { HookPhase, MountKind, Tag } from './tags.js';

/** clone(2) / setns(2) flags per namespace type. */
export const CLONE_FLAGS: Record<NamespaceType, number> = {
  mount: 0x00020000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  cgroup: 0x02000000,
  time: 0x00000080,
};

/** The devices every container gets (runtime-spec "Default Devices"). */
const DEFAULT_DEVICES: Device[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
];

const DEV_SYMLINKS: Array<[string, string]> = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
  ['pts/ptmx', '/dev/ptmx'],
];

export interface PlanInput {
  id: string;
  spec: Spec;
  bundle: string;
  fifo: string;
  cgroups: CgroupDir[];
  noPivot: boolean;
  /** `run` in the foreground: the launcher stays as the init's parent */
  monitor: boolean;
  /** --console-socket: where the init sends the pty master when process.terminal is set */
  consoleSocket?: string;
  /** --preserve-fds: fds 3..3+n-1 of the caller reach the container */
  preserveFds: number;
  /** --no-new-keyring: keep the caller's session keyring instead of a new one named after the container */
  noNewKeyring: boolean;
  /** linux.seccomp, compiled */
  seccomp?: CompiledSeccomp;
}

const PERSONALITY = { LINUX: 0x0000, LINUX32: 0x0008 } as const;
const IOPRIO_CLASS = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 } as const;
const SCHED_POLICY: Record<string, number> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};
const SCHED_FLAG: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

/** The number of a name in one of the tables above. The config's validation lets only known
 * names through, so a name without one is a bug. */
function numberOf(table: Record<string, number>, name: string): number {
  const n = table[name];
  if (n === undefined) throw new Error(`no number for "${name}"`);
  return n;
}

/** Turns a validated config into the launch plan the C init carries out, in order. */
export function buildPlan(input: PlanInput): PlanRecord[] {
  const { spec } = input;
  const out: PlanRecord[] = [];
  const add = (tag: Tag, fields: PlanRecord['fields'], what: string, field?: string) => out.push({ tag, fields, what, field });

  if (input.monitor) add(Tag.Monitor, [], 'monitor the container');

  const fresh = new Set<NamespaceType>();
  let cloneFlags = 0;
  /* Paths are opened before any setns; the user namespace is joined first (it gives the
   * rights to join the others), the mount namespace last. */
  const joinOrder = (t: NamespaceType) => (t === 'user' ? 0 : t === 'mount' ? 2 : 1);
  const joins = spec.linux.namespaces
    .map((n, i) => ({ n, i }))
    .filter(({ n }) => n.path)
    .sort((a, b) => joinOrder(a.n.type) - joinOrder(b.n.type));
  for (const { n, i } of joins)
    add(Tag.NsJoin, [CLONE_FLAGS[n.type], n.path!], `join ${n.type} namespace ${n.path}`, `linux.namespaces[${i}].path`);
  for (const n of spec.linux.namespaces) {
    if (n.path) continue;
    fresh.add(n.type);
    /* cgroup: unshared once the init is in its cgroup; time: entered by the launcher's
     * children after it set the offsets (clone() has no room for CLONE_NEWTIME). */
    if (n.type !== 'cgroup' && n.type !== 'time') cloneFlags |= CLONE_FLAGS[n.type];
  }
  if (fresh.has('time')) {
    const offsets = Object.entries(spec.linux.timeOffsets)
      .map(([clock, o]) => `${clock} ${o.secs} ${o.nanosecs}\n`)
      .join('');
    add(Tag.TimeOffsets, [offsets], 'create time namespace', 'linux.timeOffsets');
  }
  if (input.preserveFds) add(Tag.PreserveFds, [input.preserveFds], `preserve ${input.preserveFds} fds`, '--preserve-fds');
  add(Tag.Fifo, [input.fifo], `create ${input.fifo}`);
  add(Tag.Clone, [cloneFlags], `create namespaces (${[...fresh].join(', ')})`, 'linux.namespaces');

  /* The host has written the id maps by now (or the namespace was joined): become its root,
   * or files the init creates would belong to an unmapped id. */
  if (spec.linux.namespaces.some((n) => n.type === 'user'))
    add(Tag.UserNsRoot, [], 'become root in the user namespace', 'linux.namespaces');
  /* The host has placed the init in its cgroup by now: the namespace is rooted there. */
  if (fresh.has('cgroup')) add(Tag.UnshareCgroup, [], 'create cgroup namespace', 'linux.namespaces');
  if (spec.hostname) add(Tag.Hostname, [spec.hostname], `set hostname "${spec.hostname}"`, 'hostname');
  if (spec.domainname) add(Tag.Domainname, [spec.domainname], `set domainname "${spec.domainname}"`, 'domainname');
  if (fresh.has('network')) add(Tag.Loopback, [], 'bring up lo', 'linux.namespaces');
  /* /proc/sys of the host procfs shows the namespaces of the process that opens it: the init's. */
  for (const [key, value] of Object.entries(spec.linux.sysctl))
    add(Tag.Sysctl, [`/proc/sys/${key.replace(/\./g, '/')}`, value], `set sysctl ${key}="${value}"`, `linux.sysctl.${key}`);

  const rootfs = spec.root.path;
  /* rslave while the container is built, so nothing propagates to the host; the configured
   * propagation is applied to the new root after pivot_root, as runc does (a shared mount
   * cannot be pivoted). */
  let rootPropagation = 0;
  if (spec.linux.rootfsPropagation !== undefined) {
    const p = PROPAGATION[spec.linux.rootfsPropagation];
    if (p === undefined) throw invalid('linux.rootfsPropagation', `unknown propagation "${spec.linux.rootfsPropagation}"`);
    rootPropagation = p;
  }
  /* without a mount namespace the host's mount table is the container's: nothing is mounted
   * or made in it (validate refused what would be), and the init only chroots */
  const hostMounts = !spec.linux.namespaces.some((n) => n.type === 'mount');
  if (!hostMounts) add(Tag.Rootfs, [rootfs, MS.SLAVE | MS.REC], `prepare rootfs ${rootfs}`, 'root.path');

  let devBound = false;
  spec.mounts.forEach((m, i) => {
    const field = `mounts[${i}]`;
    const opts = parseMountOptions(m.options, field);
    const bind = opts.bind || m.type === 'bind';
    const label = `"${m.source ?? m.type ?? ''}"`;
    if (m.destination === '/dev' && bind) devBound = true;
    if (m.type === 'cgroup') {
      for (const s of expandCgroupMount(m.destination, opts.flags, input.cgroups, fresh.has('cgroup'))) {
        if (s.kind === 'symlink') add(Tag.Symlink, [s.source, s.dest], `symlink ${s.dest}`, field);
        else {
          const kind = s.kind === 'fs' ? MountKind.Fs : s.kind === 'bind' ? MountKind.Bind : MountKind.Remount;
          add(
            Tag.Mount,
            [kind, s.source, s.dest, s.fstype, s.flags, s.data, 0, 0, 0, 0],
            `mount "${s.source || 'cgroup'}" on ${s.dest}`,
            field,
          );
        }
      }
      return;
    }
    if (opts.tmpcopyup && m.type !== 'tmpfs') throw invalid(`${field}.options`, '"tmpcopyup" is for tmpfs mounts');
    const extra = [opts.attrSet, opts.attrClr, opts.tmpcopyup ? 1 : 0];
    if (bind) {
      if (!m.source) throw invalid(`${field}.source`, 'is required for a bind mount');
      const source = isAbsolute(m.source) ? m.source : join(input.bundle, m.source);
      add(
        Tag.Mount,
        [MountKind.Bind, source, m.destination, '', opts.flags | MS.BIND, opts.data, opts.propagation, ...extra],
        `mount ${label} on ${m.destination}`,
        field,
      );
    } else {
      if (!m.type) throw invalid(`${field}.type`, 'is required');
      add(
        Tag.Mount,
        [MountKind.Fs, m.source ?? m.type, m.destination, m.type, opts.flags, opts.data, opts.propagation, ...extra],
        `mount ${label} on ${m.destination}`,
        field,
      );
    }
  });

  if (!devBound && !hostMounts) {
    const configured = new Set(spec.linux.devices.map((d) => d.path));
    for (const d of DEFAULT_DEVICES) if (!configured.has(d.path)) add(Tag.Device, deviceFields(d), `create device ${d.path}`);
    for (const [target, link] of DEV_SYMLINKS) add(Tag.Symlink, [target, link], `symlink ${link}`);
  }
  spec.linux.devices.forEach((d, i) => add(Tag.Device, deviceFields(d), `create device ${d.path}`, `linux.devices[${i}]`));

  if (spec.process.terminal) {
    if (!input.consoleSocket) throw invalid('process.terminal', 'needs --console-socket (or run in the foreground)');
    const size = spec.process.consoleSize;
    /* /dev/console is bound in the container's own mount namespace only */
    add(
      Tag.Console,
      [input.consoleSocket, size?.height ?? 0, size?.width ?? 0, hostMounts ? 0 : 1],
      `set up the console through ${input.consoleSocket}`,
      'process.terminal',
    );
  }
  if (!hostMounts) add(Tag.Mkdir, [spec.process.cwd], `create ${spec.process.cwd}`, 'process.cwd');
  /* prestart and createRuntime hooks run now, in droplet's namespaces: the container's
   * filesystems are mounted, pivot_root is still to come (runtime.md). */
  if (spec.hooks.prestart.length || spec.hooks.createRuntime.length) add(Tag.SyncHooks, [], 'wait for the runtime hooks');
  spec.hooks.createContainer.forEach((h, i) =>
    add(Tag.Hook, hookFields(HookPhase.CreateContainer, h), `run createContainer hook ${h.path}`, `hooks.createContainer[${i}]`),
  );
  if (input.seccomp?.notify && input.seccomp.listenerPath)
    add(
      Tag.SeccompListener,
      [input.seccomp.listenerPath],
      `connect to the seccomp listener ${input.seccomp.listenerPath}`,
      'linux.seccomp.listenerPath',
    );
  spec.linux.maskedPaths.forEach((p, i) => add(Tag.Mask, [p], `mask ${p}`, `linux.maskedPaths[${i}]`));
  spec.linux.readonlyPaths.forEach((p, i) => add(Tag.Readonly, [p], `make ${p} read-only`, `linux.readonlyPaths[${i}]`));
  if (hostMounts) add(Tag.Chroot, [rootfs], `chroot to ${rootfs}`, 'root.path');
  else add(Tag.Pivot, [input.noPivot ? 1 : 0, rootPropagation], `${input.noPivot ? 'move' : 'pivot_root'} to ${rootfs}`, 'root.path');
  if (spec.root.readonly) add(Tag.RootReadonly, [], 'make the rootfs read-only', 'root.readonly');

  if (spec.linux.personality)
    add(
      Tag.Personality,
      [PERSONALITY[spec.linux.personality.domain]],
      `set personality ${spec.linux.personality.domain}`,
      'linux.personality',
    );
  if (!input.noNewKeyring) add(Tag.Keyring, [input.id], `join a new session keyring "${input.id}"`, '--no-new-keyring');
  addProcess(add, spec.process, input.seccomp, () =>
    spec.hooks.startContainer.forEach((h, i) =>
      add(Tag.Hook, hookFields(HookPhase.StartContainer, h), `run startContainer hook ${h.path}`, `hooks.startContainer[${i}]`),
    ),
  );
  return out;
}

type Add = (tag: Tag, fields: PlanRecord['fields'], what: string, field?: string) => void;

/** The records that make the process itself, shared by create and exec: limits, seccomp,
 * identity, cwd, and the executable. beforeExec adds what must come just before it. */
export function addProcess(add: Add, p: Process, seccomp: CompiledSeccomp | undefined, beforeExec?: () => void): void {
  if (p.ioPriority)
    add(
      Tag.IoPriority,
      [(IOPRIO_CLASS[p.ioPriority.class] << 13) | p.ioPriority.priority],
      `set I/O priority ${p.ioPriority.class}`,
      'process.ioPriority',
    );
  if (p.scheduler) {
    const sc = p.scheduler;
    const flags = sc.flags.reduce((f, name) => f | numberOf(SCHED_FLAG, name), 0);
    add(
      Tag.Scheduler,
      [numberOf(SCHED_POLICY, sc.policy), flags, sc.nice, sc.priority, sc.runtime, sc.deadline, sc.period],
      `set scheduler ${sc.policy}`,
      'process.scheduler',
    );
  }
  const seenRlimits = new Set<string>();
  p.rlimits.forEach((r, i) => {
    const field = `process.rlimits[${i}]`;
    if (seenRlimits.has(r.type)) throw invalid(`${field}.type`, `duplicate rlimit "${r.type}"`);
    seenRlimits.add(r.type);
    add(
      Tag.Rlimit,
      [rlimitNumber(r.type, `${field}.type`), r.soft, r.hard],
      `set ${r.type} to ${rlimitText(r.soft)}:${rlimitText(r.hard)}`,
      field,
    );
  });
  if (seccomp) {
    /* with no_new_privs the init loads it as its last step before ready; without, now, while
     * it still has CAP_SYS_ADMIN */
    add(
      Tag.Seccomp,
      [
        seccomp.flags,
        seccomp.program,
        seccomp.listenerPath ?? '',
        seccomp.listenerMetadata ?? '',
        seccomp.notify ? 1 : 0,
        p.noNewPrivileges ? 1 : 0,
      ],
      'load the seccomp filter',
      'linux.seccomp',
    );
  }
  if (p.capabilities) add(Tag.Caps, capabilityMasks(p.capabilities), 'set capabilities', 'process.capabilities');
  const u = p.user;
  add(
    Tag.User,
    [u.uid, u.gid, u.additionalGids.length, ...u.additionalGids, u.umask ?? 0o022],
    `set user ${u.uid}:${u.gid}`,
    'process.user',
  );
  add(Tag.Cwd, [p.cwd], `chdir to ${p.cwd}`, 'process.cwd');
  if (p.noNewPrivileges) add(Tag.NoNewPrivs, [], 'set no_new_privs', 'process.noNewPrivileges');
  if (p.apparmorProfile)
    add(
      Tag.LsmExec,
      ['/proc/self/attr/apparmor/exec', `exec ${p.apparmorProfile}`],
      `set AppArmor profile ${p.apparmorProfile}`,
      'process.apparmorProfile',
    );
  if (p.selinuxLabel)
    add(Tag.LsmExec, ['/proc/self/attr/exec', p.selinuxLabel], `set SELinux label ${p.selinuxLabel}`, 'process.selinuxLabel');
  beforeExec?.();
  add(Tag.Exec, [p.args.length, ...p.args, p.env.length, ...p.env], `exec "${p.args[0]}"`, 'process.args[0]');
}

function hookFields(phase: HookPhase, h: Hook): PlanRecord['fields'] {
  return [phase, h.path, h.timeout ?? 0, h.args.length, ...h.args, h.env.length, ...h.env];
}

function deviceFields(d: Device): PlanRecord['fields'] {
  return [posix.normalize(d.path), d.type.charCodeAt(0), d.major, d.minor, d.fileMode, d.uid, d.gid];
}

/** The device-cgroup allow rule each configured device node needs. */
export function deviceAllowRules(spec: Spec) {
  return spec.linux.devices
    .filter((d) => d.type === 'c' || d.type === 'b')
    .map((d) => ({ allow: true, type: d.type as 'c' | 'b', major: d.major, minor: d.minor, access: 'rwm' }));
}
