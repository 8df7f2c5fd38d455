import { UserError } from '../../../lib/errors.js';
import { native } from '../../../lib/native.js';
import type { DeviceRule } from '../../../oci/spec.js';
import { containerDeviceRules, deviceFilterProgram, encodeProgram } from './devices-bpf.js';

/** cgroup v2 devices: builds the container's device filter and attaches it to its cgroup,
 * in place of the one attached before. */
export function attachDeviceFilter(cgroupDir: string, rules: DeviceRule[], deviceNodes: DeviceRule[]): void {
  const program = encodeProgram(deviceFilterProgram(containerDeviceRules(rules, deviceNodes)));
  try {
    native().attachDeviceFilter(cgroupDir, program);
  } catch (err) {
    throw new UserError(`linux.resources.devices: ${(err as Error).message}`);
  }
}

/** The ids of the device filters attached to a cgroup (for tests and diagnostics). */
export function deviceFilterIds(cgroupDir: string): number[] {
  return native().deviceFilterIds(cgroupDir);
}
