import { posix } from 'node:path';
import type { CgroupDir } from './container-cgroup.js';
import { hierarchyFs } from './hierarchy.js';

/** How a container's cgroup mount shows the host's hierarchies, as runc mounts them
 * (mountCgroupV1, mountCgroupV2). */
export interface CgroupfsLayout {
  /** a tmpfs on the mount point with one mount per hierarchy below it (v1 and hybrid hosts);
   * false: the one hierarchy on the mount point itself (pure v2) */
  tmpfs: boolean;
  mounts: CgroupfsMount[];
}

export interface CgroupfsMount {
  /** its directory below the tmpfs, named as on the host ("cpu,cpuacct") */
  name: string;
  /** a fresh mount of the hierarchy, in a new cgroup namespace */
  fstype: 'cgroup' | 'cgroup2';
  data: string;
  /** the container's directory, bind-mounted when there is no new cgroup namespace */
  dir: string;
}

export function perHierarchyLayout(dirs: CgroupDir[]): CgroupfsLayout {
  return {
    tmpfs: true,
    mounts: dirs.map((d) => ({ name: posix.basename(d.hierarchy.mountpoint), dir: d.dir, ...hierarchyFs(d.hierarchy) })),
  };
}

export function singleHierarchyLayout(d: CgroupDir): CgroupfsLayout {
  return { tmpfs: false, mounts: [{ name: '', dir: d.dir, ...hierarchyFs(d.hierarchy) }] };
}
