import { readFileSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { CgroupDir } from '../container-cgroup.js';

/** A v1 cpuset admits no task until its cpus and mems are set: each directory down the
 * path that has none takes its parent's. */
export function initCpuset(d: CgroupDir): void {
  const parts = d.path.split('/').filter(Boolean);
  let dir = d.hierarchy.mountpoint;
  for (const part of parts) {
    const parent = dir;
    dir = posix.join(dir, part);
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (readFileSync(posix.join(dir, file), 'utf8').trim() === '')
        writeFileSync(posix.join(dir, file), readFileSync(posix.join(parent, file), 'utf8').trim());
    }
  }
}
