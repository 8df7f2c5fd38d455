import type { Logger } from '../../lib/log.js';
import { readKeyValues } from './cgroup-file.js';
import { resourcesVersion, unifiedDir, v1DirOf } from './apply-resources.js';
import type { CgroupDir } from './container-cgroup.js';

/** How many of the container's processes the OOM killer has killed: "oom_kill" in the v1
 * memory.oom_control (Linux 4.13+) or the v2 memory.events. undefined without a memory
 * controller (or before the cgroup exists). */
export function oomKillCount(dirs: CgroupDir[]): number | undefined {
  if (resourcesVersion(dirs) === 1) {
    const dir = v1DirOf(dirs)('memory');
    return dir ? readKeyValues(dir, 'memory.oom_control').oom_kill : undefined;
  }
  const dir = unifiedDir(dirs);
  return dir ? readKeyValues(dir, 'memory.events').oom_kill : undefined;
}

/** After a foreground run: says so when the OOM killer killed processes of the container,
 * which otherwise only shows as an exit by SIGKILL (137). */
export function reportOomKills(dirs: CgroupDir[], log: Logger): void {
  const n = oomKillCount(dirs);
  if (n) log.warn(`the OOM killer killed ${n} process${n > 1 ? 'es' : ''} of the container: it reached its memory limit`);
}
