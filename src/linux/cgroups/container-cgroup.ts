import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, write, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { UserError, errnoCode, reason } from '../../lib/errors.js';
import { sleepMs } from '../../lib/sleep.js';
import { invalid } from '../../lib/json-reader.js';
import { hostHierarchies, ownCgroup, type Hierarchy } from './hierarchy.js';

export interface CgroupDir {
  hierarchy: Hierarchy;
  /** the container's cgroup as seen from the hierarchy's root, e.g. /droplet/c1 */
  path: string;
  /** the directory on the host */
  dir: string;
  /** droplet made this directory for the container. Only then is it the container's own:
   * delete signals what it holds and removes it; a cgroup that existed before (or one that
   * is only described, as in tests) is only joined. */
  owned?: boolean;
}

/** The container's directory in every host hierarchy (the caller decides the path of a
 * config that gives none). A relative cgroupsPath is taken from droplet's own cgroup, as runc
 * does. A hierarchy's root, or a cgroup that contains droplet's own, holds processes of the
 * host: refused, never joined. */
export function containerCgroupDirs(cgroupsPath: string): CgroupDir[] {
  if (cgroupsPath.includes(':') && !cgroupsPath.startsWith('/'))
    throw invalid('linux.cgroupsPath', `"${cgroupsPath}" is a systemd slice path; droplet manages cgroupfs paths only`);
  if (cgroupsPath.split('/').includes('..')) throw invalid('linux.cgroupsPath', `"${cgroupsPath}" must not contain ".."`);
  return hostHierarchies().map((h) => {
    const path = posix
      .normalize(cgroupsPath.startsWith('/') ? cgroupsPath : posix.join(ownCgroup(h), cgroupsPath))
      .replace(/(.)\/+$/, '$1');
    const d = { hierarchy: h, path, dir: path === '/' ? h.mountpoint : posix.join(h.mountpoint, path), owned: false };
    const why = hostCgroup(d);
    if (why) throw new UserError(`cgroup ${d.dir} ${why} (linux.cgroupsPath)`);
    return d;
  });
}

const ownCgroups = new Map<Hierarchy, string>();

/** The cgroup is the container's own: droplet made it, and it is no host cgroup (whatever a
 * corrupt state file says). */
export function isOwn(d: CgroupDir): boolean {
  return !!d.owned && !hostCgroup(d);
}

/** Why a cgroup is the host's rather than a container's: the root of its hierarchy, or an
 * ancestor of droplet's own cgroup (or that cgroup itself). undefined if it is neither. */
function hostCgroup(d: Pick<CgroupDir, 'hierarchy' | 'path'>): string | undefined {
  if (d.path === '/') return 'is the root of its hierarchy';
  let own = ownCgroups.get(d.hierarchy);
  if (own === undefined) {
    own = ownCgroup(d.hierarchy);
    ownCgroups.set(d.hierarchy, own);
  }
  if (own === d.path || own.startsWith(`${d.path}/`)) return `contains droplet's own cgroup ${own}`;
  return undefined;
}

/** A cgroup that exists and holds processes (in it or below it) belongs to someone else:
 * a container joining it would take them over, and its delete would kill them. */
export function refuseBusyCgroups(dirs: CgroupDir[]): void {
  for (const d of dirs) refuseIfBusy(d);
}

function refuseIfBusy(d: CgroupDir): void {
  const n = pidsUnder(d.dir).length;
  if (n > 0) throw new UserError(`cgroup ${d.dir} already holds ${n} process${n === 1 ? '' : 'es'} (linux.cgroupsPath)`);
}

/** Marks the directories create is about to make as the container's own, before it makes
 * them: a create killed in between leaves a state that names every cgroup it may have made. */
export function claimNewCgroups(dirs: CgroupDir[]): void {
  for (const d of dirs) d.owned = !existsSync(d.dir);
}

/** Creates the cgroup directories, each readied by `prepare` before a task may join (a v1
 * cpuset needs its cpus and mems, a v2 cgroup its controllers). A directory claimed as new
 * that someone made meanwhile is only joined, and must be empty. Returns whether that
 * happened, which changes what the state must say. */
export function makeCgroupDirs(dirs: CgroupDir[], prepare: (d: CgroupDir) => void): boolean {
  let lostClaim = false;
  for (const d of dirs) {
    try {
      mkdirSync(posix.dirname(d.dir), { recursive: true });
      mkdirSync(d.dir);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw new UserError(`create cgroup ${d.dir}: ${reason(err)}`);
      lostClaim ||= !!d.owned;
      d.owned = false;
      refuseIfBusy(d);
    }
    try {
      prepare(d);
    } catch (err) {
      throw new UserError(`create cgroup ${d.dir}: ${reason(err)}`);
    }
  }
  return lostClaim;
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

/** The processes droplet may signal as the container's: those in the cgroups it made for it,
 * in any hierarchy (a process may have been moved in one of them). */
export function ownedCgroupPids(dirs: CgroupDir[]): number[] {
  const pids = new Set<number>();
  for (const d of dirs) if (isOwn(d)) for (const pid of pidsUnder(d.dir)) pids.add(pid);
  return [...pids];
}

/** The pids in a cgroup and in the cgroups below it. */
export function pidsUnder(dir: string): number[] {
  let pids: number[];
  let children: string[];
  try {
    pids = parsePids(readFileSync(posix.join(dir, 'cgroup.procs'), 'utf8'));
    children = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
  return [...pids, ...children.flatMap((c) => pidsUnder(posix.join(dir, c)))];
}

/** The pids of a cgroup.procs file: a line that is not a positive number is no pid (kill(2)
 * would read 0 as droplet's own process group). */
function parsePids(text: string): number[] {
  return text
    .split('\n')
    .filter((l) => /^[1-9]\d*$/.test(l))
    .map(Number);
}

/** Removes the container's own cgroup directories (those droplet made), with the cgroups the
 * container made below them; waits briefly for dying tasks to leave. */
export function removeCgroups(dirs: CgroupDir[]): void {
  for (const d of dirs) if (isOwn(d)) removeCgroupTree(d.dir);
}

/** Every cgroup directory at and below the container's own ones among dirs: where the
 * container may have frozen a part of itself. */
export function ownedCgroupTrees(dirs: CgroupDir[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    out.push(dir);
    try {
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(posix.join(dir, e.name));
    } catch {
      /* gone */
    }
  };
  for (const d of dirs) if (isOwn(d) && existsSync(d.dir)) walk(d.dir);
  return out;
}

/** Removes a cgroup and the cgroups the container made below it, deepest first. */
function removeCgroupTree(dir: string): void {
  let children: string[] = [];
  try {
    children = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
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
