import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Mount points whose path starts with prefix, from the host's mount table. */
export function mountsUnder(prefix: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p && p.startsWith(prefix));
}

/** Host cgroup directories named after the container, in any hierarchy. */
export function cgroupsOf(id: string): string[] {
  const out: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const d = join('/sys/fs/cgroup', h, 'droplet', id);
    if (existsSync(d)) out.push(d);
  }
  if (existsSync(join('/sys/fs/cgroup/droplet', id))) out.push(join('/sys/fs/cgroup/droplet', id));
  return out;
}

/** Live processes whose command line mentions s (zombies excluded: they are dead). */
export function processesWith(s: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue;
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(s)) out.push(Number(e));
    } catch {
      /* exited while we looked */
    }
  }
  return out;
}

/** Everything a container with this id could leave behind on the host. */
export function leftovers(root: string, id: string, bundleDir: string): string[] {
  const found: string[] = [];
  if (existsSync(join(root, id))) found.push(`state directory ${join(root, id)}`);
  for (const m of mountsUnder(bundleDir)) found.push(`mount ${m}`);
  for (const c of cgroupsOf(id)) found.push(`cgroup ${c}`);
  for (const p of processesWith(` ${id} `)) found.push(`process ${p}`);
  return found;
}

/** Where dir lies inside its filesystem, as mountinfo's root field names it, and that
 * filesystem's device: a container's root mount shows its rootfs this way. */
function locationInFilesystem(dir: string): { device: string; path: string } | undefined {
  let best: { device: string; root: string; mountPoint: string } | undefined;
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [, , device, root, mountPoint] = line.split(' ');
    if (device === undefined || root === undefined || !mountPoint) continue;
    if (!(dir === mountPoint || dir.startsWith(mountPoint === '/' ? '/' : `${mountPoint}/`))) continue;
    if (!best || mountPoint.length >= best.mountPoint.length) best = { device, root, mountPoint };
  }
  if (!best) return undefined;
  const rest = best.mountPoint === '/' ? dir : dir.slice(best.mountPoint.length);
  return { device: best.device, path: join(best.root, rest) };
}

/** Live processes of containers whose bundle or state lies under dir: a `droplet init` whose
 * exec.fifo is there, or any process whose root mount is a rootfs there (an init that already
 * exec'd its entrypoint, frozen or not). Scoped to dir, so that containers of other suites
 * running on this machine at the same time are not counted. */
export function containerProcessesUnder(dir: string): number[] {
  const where = locationInFilesystem(dir);
  const ownMountNs = readlinkOr('/proc/self/ns/mnt');
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (/\) Z /.test(readFileSync(`/proc/${e}/stat`, 'utf8'))) continue;
      const args = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (args[0] === 'droplet' && args[1] === 'init' && (args[3] ?? '').startsWith(`${dir}/`)) {
        out.push(Number(e));
        continue;
      }
      if (!where || readlinkOr(`/proc/${e}/ns/mnt`) === ownMountNs) continue;
      const root = readFileSync(`/proc/${e}/mountinfo`, 'utf8')
        .split('\n')
        .map((l) => l.split(' '))
        .find((f) => f[4] === '/');
      if (root && root[2] === where.device && (root[3] === where.path || root[3]?.startsWith(`${where.path}/`))) out.push(Number(e));
    } catch {
      /* exited while we looked */
    }
  }
  return out;
}

function readlinkOr(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

/** Kills container processes a test left behind (its own, found by containerProcessesUnder),
 * thawing a v1 freezer cgroup first: a frozen task dies only once thawed. */
export function killContainerProcesses(pids: number[]): void {
  for (const pid of pids) {
    try {
      const freezer = /^\d+:freezer:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1];
      process.kill(pid, 'SIGKILL');
      if (freezer && freezer !== '/') writeFileSync(join('/sys/fs/cgroup/freezer', freezer, 'freezer.state'), 'THAWED');
    } catch {
      /* gone */
    }
  }
}

/** A one-line description of each process, for a leak report. */
export function describeProcesses(pids: number[]): string {
  return pids.map((p) => `${p} (${readFileSafe(`/proc/${p}/cmdline`).replace(/\0/g, ' ').trim()})`).join(', ');
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
