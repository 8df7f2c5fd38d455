import { readFileSync } from 'node:fs';
import type { EtcFiles } from './etc-files.js';
import { containerCapabilities } from './capabilities.js';
import type { ContainerRecord } from './record.js';
import type { OciSeccomp } from './seccomp/convert.js';
import type { ResolvedUser } from './user.js';

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export interface OciConfigInput {
  record: ContainerRecord;
  /** the container's root: `<dir>/merged` */
  rootfs: string;
  etc: EtcFiles;
  user: ResolvedUser;
  /** volumes, binds and tmpfs mounts */
  mounts: OciMount[];
  /** a network namespace made for the container; none: a new empty one */
  netnsPath?: string;
  /** --init: the host's static init (tini), run as PID 1 in front of the command */
  init?: string;
  /** linux.seccomp; none: no filter */
  seccomp?: OciSeccomp;
}

/** Where --init's program appears in the container, as docker puts it. */
export const INIT_PATH = '/sbin/docker-init';

/** docker's allow list for a container's devices: all mknod, and the default devices. */
const DEVICE_RULES = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  ...[
    [1, 3],
    [1, 5],
    [1, 7],
    [1, 8],
    [1, 9],
    [5, 0],
    [5, 1],
    [5, 2],
    [10, 200],
  ].map(([major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
  { allow: true, type: 'c', major: 136, access: 'rwm' },
];

const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The OCI config (config.json) of a container: the image's defaults and the user's flags,
 * as docker merges them, made concrete for the runtime. */
export function ociConfig(input: OciConfigInput): object {
  const { record, user } = input;
  const { Config: config, HostConfig: host } = record;
  const caps = containerCapabilities(host.CapAdd, host.CapDrop, host.Privileged);
  const noNewPrivileges = host.SecurityOpt.some((o) => /^no-new-privileges(?:[:=]true)?$/.test(o));
  const env = [...config.Env];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  if (!env.some((e) => e.startsWith('HOSTNAME='))) env.push(`HOSTNAME=${config.Hostname}`);
  if (config.Tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home}`);
  const hostNetwork = host.NetworkMode === 'host';
  const namespaces = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }];
  if (!hostNetwork)
    namespaces.push(input.netnsPath ? ({ type: 'network', path: input.netnsPath } as { type: string }) : { type: 'network' });
  const memory: Record<string, number> = {};
  if (host.Memory > 0) {
    memory.limit = host.Memory;
    /* docker: --memory-swap unset is twice the memory; -1 is unlimited */
    if (host.MemorySwap === -1) memory.swap = -1;
    else memory.swap = host.MemorySwap > 0 ? host.MemorySwap : host.Memory * 2;
  }
  const cpu: Record<string, number> = {};
  if (host.CpuShares > 0) cpu.shares = host.CpuShares;
  if (host.NanoCpus > 0) {
    cpu.period = 100_000;
    cpu.quota = Math.round((host.NanoCpus / 1e9) * 100_000);
  }
  const sysfsOptions = ['nosuid', 'noexec', 'nodev', host.Privileged ? 'rw' : 'ro'];
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: sysfsOptions },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...sysfsOptions, 'relatime'] },
    { destination: '/etc/hostname', type: 'bind', source: input.etc.hostname, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: input.etc.hosts, options: ['rbind', 'rprivate'] },
    { destination: '/etc/resolv.conf', type: 'bind', source: input.etc.resolvConf, options: ['rbind', 'rprivate'] },
    ...input.mounts,
    ...(input.init ? [{ destination: INIT_PATH, type: 'bind', source: input.init, options: ['rbind', 'ro', 'rprivate'] }] : []),
  ];
  if (hostNetwork) {
    /* the host's sysfs network view belongs to the host's namespace */
    const sys = mounts.find((m) => m.destination === '/sys');
    if (sys) Object.assign(sys, { type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  }
  return {
    /* crun before 1.9 refuses a version without "1.0" in it; nothing here needs a later one */
    ociVersion: '1.0.2',
    process: {
      terminal: config.Tty,
      ...consoleSize(record),
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      args: [...(input.init ? [INIT_PATH, '--'] : []), ...(config.Entrypoint ?? []), ...config.Cmd],
      env,
      cwd: config.WorkingDir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: rlimits(record),
      noNewPrivileges,
    },
    root: { path: input.rootfs, readonly: host.ReadonlyRootfs },
    hostname: config.Hostname,
    mounts,
    annotations: { 'io.raind.container.name': record.Name, 'io.raind.image': record.ImageName },
    linux: {
      cgroupsPath: `/raind/${record.Id}`,
      resources: {
        devices: host.Privileged ? [{ allow: true, access: 'rwm' }] : DEVICE_RULES,
        ...(Object.keys(memory).length ? { memory } : {}),
        ...(Object.keys(cpu).length ? { cpu } : {}),
        ...(host.PidsLimit > 0 ? { pids: { limit: host.PidsLimit } } : {}),
      },
      namespaces,
      ...(host.Privileged ? {} : { maskedPaths: MASKED_PATHS, readonlyPaths: READONLY_PATHS }),
      ...(input.seccomp ? { seccomp: input.seccomp } : {}),
    },
  };
}

/** --ulimit, over a default open-files limit no higher than this process's hard limit (a
 * container cannot be given more than its runtime has). */
function rlimits(record: ContainerRecord): { type: string; soft: number; hard: number }[] {
  const hard = ownHardLimit('Max open files') ?? 1_048_576;
  const nofile = Math.min(1_048_576, hard);
  const out = new Map([['RLIMIT_NOFILE', { type: 'RLIMIT_NOFILE', soft: nofile, hard: nofile }]]);
  for (const u of record.HostConfig.Ulimits) {
    const type = `RLIMIT_${u.Name.toUpperCase()}`;
    out.set(type, { type, soft: u.Soft, hard: u.Hard });
  }
  return [...out.values()];
}

function ownHardLimit(name: string): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(name));
    const hard = line?.slice(name.length).trim().split(/\s+/)[1];
    return hard === undefined || hard === 'unlimited' ? undefined : Number(hard);
  } catch {
    return undefined;
  }
}

/** The terminal's size at create (docker's ConsoleSize; [0, 0] is none), so that the
 * command's first look at its terminal sees the caller's size. */
function consoleSize(record: ContainerRecord): { consoleSize?: { height: number; width: number } } {
  const [height = 0, width = 0] = record.HostConfig.ConsoleSize ?? [];
  if (!record.Config.Tty || !(height > 0 && width > 0)) return {};
  return { consoleSize: { height: Math.min(height, 65535), width: Math.min(width, 65535) } };
}
