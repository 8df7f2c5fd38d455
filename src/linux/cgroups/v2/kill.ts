import { writeFileSync } from 'node:fs';
import { posix } from 'node:path';

/** cgroup v2's cgroup.kill: the kernel kills the whole cgroup at once, forks racing included.
 * Absent before Linux 5.14, where the signals do it. */
export function killCgroup(dir: string): void {
  try {
    writeFileSync(posix.join(dir, 'cgroup.kill'), '1');
  } catch {
    /* no cgroup.kill here */
  }
}
