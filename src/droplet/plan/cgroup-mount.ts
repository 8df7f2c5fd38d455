import { posix } from 'node:path';
import type { CgroupfsMount } from '../../linux/cgroups/cgroupfs-layout.js';
import type { CgroupDir } from '../../linux/cgroups/container-cgroup.js';
import { cgroupManager } from '../../linux/cgroups/manager.js';
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
  const mountOne = (m: CgroupfsMount, at: string): CgroupSubMount =>
    newCgroupNs
      ? { kind: 'fs', source: 'cgroup', dest: at, fstype: m.fstype, flags: sub | ro, data: m.data }
      : { kind: 'bind', source: m.dir, dest: at, fstype: '', flags: MS.BIND | MS.REC | sub | ro, data: '' };

  const layout = cgroupManager(dirs).cgroupfsLayout();
  if (!layout.tmpfs) return layout.mounts.map((m) => mountOne(m, dest));
  const out: CgroupSubMount[] = [{ kind: 'fs', source: 'tmpfs', dest, fstype: 'tmpfs', flags: sub, data: 'mode=755' }];
  for (const m of layout.mounts) {
    out.push(mountOne(m, posix.join(dest, m.name)));
    /* "cpu,cpuacct" is also reachable as cpu and cpuacct */
    if (m.name.includes(','))
      for (const part of m.name.split(','))
        out.push({ kind: 'symlink', source: m.name, dest: posix.join(dest, part), fstype: '', flags: 0, data: '' });
  }
  if (ro) out.push({ kind: 'remount', source: '', dest, fstype: '', flags: MS.RDONLY | sub, data: '' });
  return out;
}
