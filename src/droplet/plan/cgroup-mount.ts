import { posix } from 'node:path';
import type { CgroupDir } from '../../linux/cgroups/container-cgroup.js';
import { MS } from './mount-options.js';

/** What a mount of type "cgroup" becomes, as in runc: on a v1 or hybrid host a tmpfs with one
 * mount per hierarchy under it; on a pure v2 host one cgroup2 mount. With a new cgroup
 * namespace the hierarchies are mounted afresh (their root is the container's cgroup);
 * without one, the container's own cgroup directories are bind-mounted. */
export interface CgroupSubMount {
  kind: 'fs' | 'bind' | 'remount' | 'symlink';
  source: string;
  dest: string;
  fstype: string;
  flags: number;
  data: string;
}

export function expandCgroupMount(dest: string, flags: number, dirs: CgroupDir[], newCgroupNs: boolean): CgroupSubMount[] {
  const ro = flags & MS.RDONLY;
  const sub = flags & (MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RELATIME);
  const mountOne = (d: CgroupDir, at: string): CgroupSubMount =>
    newCgroupNs
      ? {
          kind: 'fs', source: 'cgroup', dest: at, fstype: d.hierarchy.version === 2 ? 'cgroup2' : 'cgroup',
          flags: sub | ro, data: d.hierarchy.version === 2 ? '' : d.hierarchy.key,
        }
      : { kind: 'bind', source: d.dir, dest: at, fstype: '', flags: MS.BIND | MS.REC | sub | ro, data: '' };

  const v1 = dirs.filter((d) => d.hierarchy.version === 1);
  if (v1.length === 0) {
    const unified = dirs.find((d) => d.hierarchy.version === 2);
    return unified ? [mountOne(unified, dest)] : [];
  }
  const out: CgroupSubMount[] = [
    { kind: 'fs', source: 'tmpfs', dest, fstype: 'tmpfs', flags: sub, data: 'mode=755' },
  ];
  for (const d of dirs) {
    const name = posix.basename(d.hierarchy.mountpoint);
    out.push(mountOne(d, posix.join(dest, name)));
    /* "cpu,cpuacct" is also reachable as cpu and cpuacct */
    if (name.includes(','))
      for (const part of name.split(','))
        out.push({ kind: 'symlink', source: name, dest: posix.join(dest, part), fstype: '', flags: 0, data: '' });
  }
  if (ro) out.push({ kind: 'remount', source: '', dest, fstype: '', flags: MS.RDONLY | sub, data: '' });
  return out;
}
