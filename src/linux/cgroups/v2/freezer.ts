import { readCgroupFile, readKeyValues } from '../cgroup-file.js';
import type { FreezerFile } from '../freezer-file.js';

/** cgroup v2's core freezer: cgroup.freeze takes 1 or 0; cgroup.events says "frozen 1" once
 * every task is. */
export const V2_FREEZER: FreezerFile = {
  file: 'cgroup.freeze',
  frozen: '1',
  thawed: '0',
  state(dir) {
    if (readCgroupFile(dir, 'cgroup.freeze')?.trim() !== '1') return 'thawed';
    return readKeyValues(dir, 'cgroup.events').frozen === 1 ? 'frozen' : 'freezing';
  },
};
