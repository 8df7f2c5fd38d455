import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, write, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { UserError, errnoCode, reason } from '../../common/errors.js';
import { sleepMs } from '../../common/sleep.js';
import { invalid } from '../../oci/json-reader.js';
import { resourcesVersion } from './apply-resources.js';
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
  const pureV2 = resourcesVersion(dirs) === 2;
  for (const d of dirs) {
    try {
      mkdirSync(d.dir, { recursive: true });
      if (d.hierarchy.version === 1 && d.hierarchy.key.split(',').includes('cpuset')) initCpuset(d);
      if (d.hierarchy.version === 2 && pureV2) enableControllers(d.hierarchy.mountpoint, d.path);
    } catch (err) {
      throw new UserError(`create cgroup ${d.dir}: ${reason(err)}`);
    }
  }
}

/** On a pure v2 host a cgroup has only the controllers its parent enables in
 * cgroup.subtree_control: enable every available one down the path, as runc does. A parent
 * that refuses (it holds processes itself) is left as it is; a resource that then lacks its
 * controller fails with an error naming it. */
export function enableControllers(mountpoint: string, path: string): void {
  const parts = path.split('/').filter(Boolean);
  let dir = mountpoint;
  for (const part of parts) {
    const available = readFileSync(posix.join(dir, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean);
    const enabled = new Set(readFileSync(posix.join(dir, 'cgroup.subtree_control'), 'utf8').split(/\s+/).filter(Boolean));
    const missing = available.filter((c) => !enabled.has(c)).map((c) => `+${c}`);
    const control = posix.join(dir, 'cgroup.subtree_control');
    /* all in one write; if the kernel refuses one of them, each alone */
    if (missing.length && !tryWrite(control, missing.join(' '))) for (const m of missing) tryWrite(control, m);
    dir = posix.join(dir, part);
  }
}

function tryWrite(file: string, text: string): boolean {
  try {
    writeFileSync(file, text, { flag: 'r+' });
    return true;
  } catch {
    return false;
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

/** PIDs in the container's cgroup and the cgroups it made below it (every process, also in
 * a shared PID namespace). */
export function cgroupPids(dirs: CgroupDir[]): number[] {
  const d = dirs.find((x) => x.hierarchy.version === 2) ?? dirs[0];
  return d ? pidsUnder(d.dir) : [];
}

function pidsUnder(dir: string): number[] {
  let pids: number[];
  let children: string[];
  try {
    pids = readFileSync(posix.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    children = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
  return [...pids, ...children.flatMap((c) => pidsUnder(posix.join(dir, c)))];
}

/** Removes the container's cgroup directories; waits briefly for dying tasks to leave. */
export function removeCgroups(dirs: CgroupDir[]): void {
  for (const d of dirs) removeCgroupTree(d.dir);
}

/** Removes a cgroup and the cgroups the container made below it, deepest first. */
function removeCgroupTree(dir: string): void {
  let children: string[] = [];
  try {
    children = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    /* gone, or about to fail below with a better error */
  }
  for (const child of children) removeCgroupTree(posix.join(dir, child));
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      break;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || !existsSync(dir)) break;
      if (code === 'EBUSY' && attempt < 200) {
        sleepMs(10);
        continue;
      }
      throw new UserError(`remove cgroup ${dir}: ${reason(err)}`);
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
