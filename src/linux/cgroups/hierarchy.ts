import { readFileSync } from 'node:fs';

/** One mounted cgroup hierarchy of the host: a v1 hierarchy with its controllers (or a
 * named one such as name=systemd), or the cgroup2 mount. Hybrid hosts have both. */
export interface Hierarchy {
  version: 1 | 2;
  mountpoint: string;
  /** v1: the controllers or name=..., as /proc/self/cgroup spells them ("cpu,cpuacct"); v2: "" */
  key: string;
}

/** Octal escapes in mountinfo paths ("\040" for a space). */
export function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

let cached: Hierarchy[] | undefined;

/** The host's cgroup hierarchies, from /proc/self/mountinfo: the version in use is detected,
 * not configured. */
export function hostHierarchies(mountinfo = '/proc/self/mountinfo'): Hierarchy[] {
  if (cached && mountinfo === '/proc/self/mountinfo') return cached;
  const out = parseHierarchies(readFileSync(mountinfo, 'utf8'));
  if (mountinfo === '/proc/self/mountinfo') cached = out;
  return out;
}

/** The cgroup hierarchies a mountinfo text shows, each once. */
export function parseHierarchies(mountinfo: string): Hierarchy[] {
  const out: Hierarchy[] = [];
  const seen = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fstype, , superOptions = ''] = line.slice(sep + 3).split(' ');
    /* not the hierarchy's root (a bind mount of a sub-cgroup), or a line cut short */
    if (left[3] !== '/' || left[4] === undefined) continue;
    const mountpoint = unescapeMountPath(left[4]);
    let h: Hierarchy | undefined;
    if (fstype === 'cgroup2') {
      h = { version: 2, mountpoint, key: '' };
    } else if (fstype === 'cgroup') {
      const key = superOptions
        .split(',')
        .filter(
          (o) =>
            o !== 'rw' &&
            o !== 'ro' &&
            !o.startsWith('release_agent') &&
            o !== 'clone_children' &&
            o !== 'noprefix' &&
            o !== 'xattr' &&
            o !== 'nsdelegate' &&
            o !== 'cpuset_v2_mode',
        )
        .join(',');
      h = { version: 1, mountpoint, key };
    }
    if (h && !seen.has(`${h.version}:${h.key}`)) {
      seen.add(`${h.version}:${h.key}`);
      out.push(h);
    }
  }
  return out;
}

/** The v1 controllers a hierarchy carries ("cpu,cpuacct" -> cpu, cpuacct), without name=...;
 * none for cgroup2, whose key is empty. */
export function v1Controllers(h: Hierarchy): string[] {
  return h.key.split(',').filter((c) => c && !c.startsWith('name='));
}

/** The filesystem a hierarchy is mounted as, with its options: a v1 hierarchy's controllers. */
export function hierarchyFs(h: Hierarchy): { fstype: 'cgroup' | 'cgroup2'; data: string } {
  return h.version === 2 ? { fstype: 'cgroup2', data: '' } : { fstype: 'cgroup', data: h.key };
}

/** This process's own cgroup in hierarchy h, from /proc/self/cgroup. */
export function ownCgroup(h: Hierarchy, procCgroup = '/proc/self/cgroup'): string {
  for (const line of readFileSync(procCgroup, 'utf8').split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const id = line.slice(0, first);
    const controllers = line.slice(first + 1, second);
    if (h.version === 2 ? id === '0' && controllers === '' : controllers === h.key) return line.slice(second + 1);
  }
  return '/';
}
