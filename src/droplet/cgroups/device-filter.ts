import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../../common/errors.js';
import type { DeviceRule } from '../../oci/spec.js';
import { nativeDir } from '../container/native.js';
import { containerDeviceRules, deviceFilterProgram, encodeProgram } from './devices-bpf.js';

/** The addon's cgroup_bpf.c. */
interface CgroupBpf {
  attachDeviceFilter(cgroupDir: string, insns: Buffer): void;
  deviceFilterIds(cgroupDir: string): number[];
}

/** The addon, found from this file up (the bundle in dist/, or a test bundle), as node-gyp
 * builds it into build/Release of the repository. */
function addon(): CgroupBpf {
  for (let d = __dirname; d !== dirname(d); d = dirname(d)) {
    const file = join(d, 'build', 'Release', 'droplet_native.node');
    if (existsSync(file)) return require(file) as CgroupBpf;
  }
  return require(join(nativeDir(), 'droplet_native.node')) as CgroupBpf;
}

/** cgroup v2 devices: builds the container's device filter and attaches it to its cgroup,
 * in place of the one attached before. */
export function attachDeviceFilter(cgroupDir: string, rules: DeviceRule[], deviceNodes: DeviceRule[]): void {
  const program = encodeProgram(deviceFilterProgram(containerDeviceRules(rules, deviceNodes)));
  try {
    addon().attachDeviceFilter(cgroupDir, program);
  } catch (err) {
    throw new UserError(`linux.resources.devices: ${(err as Error).message}`);
  }
}

/** The ids of the device filters attached to a cgroup (for tests and diagnostics). */
export function deviceFilterIds(cgroupDir: string): number[] {
  return addon().deviceFilterIds(cgroupDir);
}
