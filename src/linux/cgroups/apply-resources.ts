import { UserError } from '../../lib/errors.js';
import type { Resources } from '../../oci/resources.js';
import type { DeviceRule } from '../../oci/spec.js';
import type { CgroupDir } from './container-cgroup.js';
import { attachDeviceFilter } from './v2/device-filter.js';
import { applyV1DeviceRules } from './v1/devices.js';
import { applyV1Resources } from './v1/resources.js';
import { applyUnified, applyV2Resources } from './v2/resources.js';

/** Which cgroup version takes the container's resources, detected from the host's mounts:
 * where v1 hierarchies carry controllers (legacy and hybrid hosts) every controller is v1
 * and only linux.resources.unified goes to the cgroup2 mount, as runc does on hybrid hosts;
 * where cgroup2 is the only hierarchy with controllers (pure v2), everything is v2, and the
 * device rules become a BPF device filter. */
export function resourcesVersion(dirs: CgroupDir[]): 1 | 2 | undefined {
  if (dirs.some((d) => d.hierarchy.version === 1 && v1Controllers(d).length > 0)) return 1;
  if (dirs.some((d) => d.hierarchy.version === 2)) return 2;
  return undefined;
}

/** The controllers of a v1 hierarchy ("cpu,cpuacct" -> cpu, cpuacct), without name=... */
function v1Controllers(d: CgroupDir): string[] {
  return d.hierarchy.key.split(',').filter((c) => c && !c.startsWith('name='));
}

/** The container's directory in the v1 hierarchy that has this controller. */
export function v1DirOf(dirs: CgroupDir[]): (controller: string) => string | undefined {
  return (controller) => dirs.find((d) => d.hierarchy.version === 1 && v1Controllers(d).includes(controller))?.dir;
}

export function unifiedDir(dirs: CgroupDir[]): string | undefined {
  return dirs.find((d) => d.hierarchy.version === 2)?.dir;
}

/** Applies every linux.resources field to the container's cgroups, or fails naming the
 * field the host cannot apply. `deviceNodes` are the allow rules for linux.devices. */
export function applyResources(dirs: CgroupDir[], r: Resources, deviceNodes: DeviceRule[]): void {
  const version = resourcesVersion(dirs);
  if (version === 1) {
    const dirOf = v1DirOf(dirs);
    if (r.devices.length) {
      const dir = dirOf('devices');
      if (!dir) throw new UserError('linux.resources.devices: this host has no cgroup v1 devices controller');
      applyV1DeviceRules(dir, r.devices, deviceNodes);
    }
    applyV1Resources(dirOf, r);
    if (Object.keys(r.unified).length) {
      const dir = unifiedDir(dirs);
      if (!dir) throw new UserError('linux.resources.unified: this host has no cgroup2 mount');
      applyUnified(dir, r.unified);
    }
    return;
  }
  if (version === 2) {
    const dir = unifiedDir(dirs)!;
    applyV2Resources(dir, r);
    if (r.devices.length) attachDeviceFilter(dir, r.devices, deviceNodes);
    return;
  }
  if (!isEmpty(r)) throw new UserError('linux.resources: this host has no cgroup hierarchy mounted');
}

function isEmpty(r: Resources): boolean {
  return !r.devices.length && !r.memory && !r.cpu && !r.pids && !r.blockIO && !r.hugepageLimits.length &&
    !r.network && !Object.keys(r.rdma).length && !Object.keys(r.unified).length;
}
