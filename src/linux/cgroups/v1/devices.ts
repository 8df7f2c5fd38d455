import type { DeviceRule } from '../../../oci/spec.js';
import { writeCgroupFile } from '../cgroup-file.js';
import { DEFAULT_ALLOWED } from '../default-devices.js';

/** "c 1:3 rwm", with * for a wildcard number; "a" for every device. */
export function deviceRuleText(r: DeviceRule): string {
  const n = (v: number | undefined) => (v === undefined || v < 0 ? '*' : String(v));
  return r.type === 'a' ? 'a' : `${r.type} ${n(r.major)}:${n(r.minor)} ${r.access}`;
}

/** The v1 devices controller: the config's rules in order, then the default allowed set and
 * one allow rule per configured device node. */
export function applyV1DeviceRules(dir: string, rules: DeviceRule[], deviceNodes: DeviceRule[]): void {
  if (rules.length === 0) return;
  const all = [...rules, ...DEFAULT_ALLOWED, ...deviceNodes];
  all.forEach((r, i) => {
    const field = i < rules.length ? `linux.resources.devices[${i}]` : 'linux.resources.devices';
    writeCgroupFile(dir, r.allow ? 'devices.allow' : 'devices.deny', deviceRuleText(r), field);
  });
}
