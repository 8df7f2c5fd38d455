import type { Resources } from '../../oci/resources.js';
import type { DeviceRule } from '../../oci/spec.js';
import { containerCgroupDirs, type CgroupDir } from './container-cgroup.js';
import { v1Controllers, type Hierarchy } from './hierarchy.js';
import { V1CgroupManager } from './v1/driver.js';
import { V2CgroupManager } from './v2/driver.js';
import type { CgroupManager } from './cgroup-manager.js';

export type { CgroupManager, CgroupStats } from './cgroup-manager.js';

/** Which cgroup version takes a container's resources, from the host's hierarchies: where
 * v1 hierarchies carry controllers (legacy and hybrid hosts) every controller is v1 and only
 * linux.resources.unified goes to the cgroup2 mount, as runc does on hybrid hosts; where
 * cgroup2 is the only hierarchy with controllers (pure v2), everything is v2, and the
 * device rules become a BPF device filter. undefined: no hierarchy takes any. */
export function cgroupVersion(hierarchies: Hierarchy[]): 1 | 2 | undefined {
  if (hierarchies.some((h) => h.version === 1 && v1Controllers(h).length > 0)) return 1;
  if (hierarchies.some((h) => h.version === 2)) return 2;
  return undefined;
}

/** The version of the hierarchies a container's directories are in. */
export function resourcesVersion(dirs: CgroupDir[]): 1 | 2 | undefined {
  return cgroupVersion(dirs.map((d) => d.hierarchy));
}

/** The manager of a container's cgroups. Its driver follows the hierarchies the directories
 * are in: the host's, detected once from mountinfo when the container was created. A host
 * without cgroup2 nor v1 controllers gets the v1 driver, which then refuses any resource. */
export function cgroupManager(dirs: CgroupDir[]): CgroupManager {
  return resourcesVersion(dirs) === 2 ? new V2CgroupManager(dirs) : new V1CgroupManager(dirs);
}

/** The manager of a new container's cgroups: its directory at cgroupsPath in every
 * hierarchy of the host. */
export function newCgroupManager(cgroupsPath: string): CgroupManager {
  return cgroupManager(containerCgroupDirs(cgroupsPath));
}

/** For a caller that holds only the directories and needs one operation. */
export function applyResources(dirs: CgroupDir[], r: Resources, deviceNodes: DeviceRule[]): void {
  cgroupManager(dirs).applyResources(r, deviceNodes);
}

export function createCgroups(dirs: CgroupDir[]): boolean {
  return cgroupManager(dirs).create();
}

export function isPaused(dirs: CgroupDir[]): boolean {
  return cgroupManager(dirs).isPaused();
}
