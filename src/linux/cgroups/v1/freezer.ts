import { readCgroupFile } from '../cgroup-file.js';
import type { FreezerFile } from '../freezer-file.js';

/** The v1 freezer controller: freezer.state takes FROZEN or THAWED and reads FREEZING while
 * tasks are still being frozen. */
export const V1_FREEZER: FreezerFile = {
  file: 'freezer.state',
  frozen: 'FROZEN',
  thawed: 'THAWED',
  state(dir) {
    const s = readCgroupFile(dir, 'freezer.state')?.trim();
    return s === 'FROZEN' ? 'frozen' : s === 'FREEZING' ? 'freezing' : 'thawed';
  },
};
