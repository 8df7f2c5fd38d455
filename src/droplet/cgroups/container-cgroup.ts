import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync, write, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { UserError, errnoCode, reason } from '../../common/errors.js';
import { sleepMs } from '../../common/sleep.js';
import { invalid } from '../../oci/json-reader.js';
import type { DeviceRule } from '../../oci/spec.js';
import { hostHierarchies, ownCgroup, type Hierarchy } from './hierarchy.js';

/** Where droplet puts a container whose config has no linux.cgroupsPath. */
export function defaultCgroupsPath(id: string): string {
  return `/droplet/${id}`;
}

export interface CgroupDir {
  hierarchy: Hierarchy;
  /** the container's cgroup as seen from the hierarchy's root, e.g. /droplet/c1 */
  path: string;
  /** the directory on the host */
  dir: string;
}

/** The container's directory in every host hierarchy. A relative cgroupsPath is taken from
 * droplet's own cgroup, as runc does. */
export function containerCgroupDirs(cgroupsPath: string | undefined, id: string): CgroupDir[] {
  const p = cgroupsPath || defaultCgroupsPath(id);
  if (p.includes(':') && !p.startsWith('/')) throw invalid('linux.cgroupsPath', `"${p}" is a systemd slice path; droplet manages cgroupfs paths only`);
  if (p.split('/').includes('..')) throw invalid('linux.cgroupsPath', `"${p}" must not contain ".."`);
  return hostHierarchies().map((h) => {
    const path = posix.normalize(p.startsWith('/') ? p : posix.join(ownCgroup(h), p));
    return { hierarchy: h, path, dir: posix.join(h.mountpoint, path) };
  });
}

/** Creates the cgroup directories (a v1 cpuset needs its cpus and mems before a task may join). */
export function createCgroups(dirs: CgroupDir[]): void {
  for (const d of dirs) {
    try {
      mkdirSync(d.dir, { recursive: true });
      if (d.hierarchy.version === 1 && d.hierarchy.key.split(',').includes('cpuset')) initCpuset(d);
    } catch (err) {
      throw new UserError(`create cgroup ${d.dir}: ${reason(err)}`);
    }
  }
}

function initCpuset(d: CgroupDir): void {
  const parts = d.path.split('/').filter(Boolean);
  let dir = d.hierarchy.mountpoint;
  for (const part of parts) {
    const parent = dir;
    dir = posix.join(dir, part);
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (readFileSync(posix.join(dir, file), 'utf8').trim() === '')
        writeFileSync(posix.join(dir, file), readFileSync(posix.join(parent, file), 'utf8').trim());
    }
  }
}

export function placeInCgroups(dirs: CgroupDir[], pid: number): void {
  for (const d of dirs) {
    try {
      writeFileSync(posix.join(d.dir, 'cgroup.procs'), String(pid));
    } catch (err) {
      throw new UserError(`join cgroup ${d.dir}: ${reason(err)}`);
    }
  }
}

/** The rules runc always allows besides the config's (its AllowedDevices). */
const DEFAULT_ALLOWED: DeviceRule[] = [
  { allow: true, type: 'c', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'b', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 136, minor: -1, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

function ruleText(r: DeviceRule): string {
  const n = (v: number | undefined) => (v === undefined || v < 0 ? '*' : String(v));
  return r.type === 'a' ? 'a' : `${r.type} ${n(r.major)}:${n(r.minor)} ${r.access}`;
}

/** Applies the device rules in order (v1 devices controller), then runc's default allowed set
 * and one allow rule per configured device node. */
export function applyDeviceRules(dirs: CgroupDir[], rules: DeviceRule[], devices: DeviceRule[]): void {
  if (rules.length === 0) return;
  const d = dirs.find((x) => x.hierarchy.version === 1 && x.hierarchy.key.split(',').includes('devices'));
  if (!d) throw invalid('linux.resources.devices', 'this host has no cgroup v1 devices controller; cgroup v2 device programs are not supported by this version of droplet');
  for (const r of [...rules, ...DEFAULT_ALLOWED, ...devices]) {
    const file = posix.join(d.dir, r.allow ? 'devices.allow' : 'devices.deny');
    try {
      writeFileSync(file, ruleText(r));
    } catch (err) {
      throw new UserError(`write ${file} "${ruleText(r)}": ${reason(err)}`);
    }
  }
}

/** PIDs in the container's cgroup (every process, also in a shared PID namespace). */
export function cgroupPids(dirs: CgroupDir[]): number[] {
  const d = dirs.find((x) => x.hierarchy.version === 2) ?? dirs[0];
  if (!d) return [];
  try {
    return readFileSync(posix.join(d.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Removes the container's cgroup directories; waits briefly for dying tasks to leave. */
export function removeCgroups(dirs: CgroupDir[]): void {
  for (const d of dirs) {
    for (let attempt = 0; ; attempt++) {
      try {
        rmdirSync(d.dir);
        break;
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT' || !existsSync(d.dir)) break;
        if (code === 'EBUSY' && attempt < 200) {
          sleepMs(10);
          continue;
        }
        throw new UserError(`remove cgroup ${d.dir}: ${reason(err)}`);
      }
    }
  }
}

/** Moving a task between cgroups takes a global lock whose first writer waits for an RCU
 * grace period (10-20 ms on these machines); writers that follow within one more grace
 * period do not wait. Moving droplet into the cgroup it is already in changes nothing but
 * starts that grace period on a thread-pool thread, while droplet validates and spawns the
 * init. The file is opened here so that the one queued operation is the write itself: the
 * synchronous create never returns to the event loop to issue a second one. */
export function warmCgroupAttach(): void {
  const h = hostHierarchies()[0];
  if (!h) return;
  try {
    const fd = openSync(posix.join(h.mountpoint, ownCgroup(h), 'cgroup.procs'), 'w');
    write(fd, String(process.pid), () => closeSync(fd));
  } catch {
    /* an optimisation only: a host that refuses it loses nothing */
  }
}
