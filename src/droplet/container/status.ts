import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupManager } from '../../linux/cgroups/manager.js';
import { isLocked } from '../../lib/lock.js';
import { isAlive } from '../../lib/proc-stat.js';
import type { StoredState } from './store.js';

/** The runtime-spec statuses, and "unknown": a container a droplet command left unfinished
 * (killed, or its state file unreadable) whose init may live on. */
export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped' | 'unknown';

/** The runtime-spec status, from the init itself: alive (same pid and start time, not a
 * zombie) and still waiting on exec.fifo is created; alive without the FIFO is running;
 * alive in a frozen cgroup is paused. */
export function deriveStatus(state: StoredState, dir: string): Status {
  if (state.phase === 'creating') return isLocked(dir) ? 'creating' : unfinishedStatus(state.pid, state.initStartTime);
  if (!isAlive(state.pid, state.initStartTime)) return 'stopped';
  if (cgroupManager(state.cgroups).isPaused()) return 'paused';
  return existsSync(join(dir, 'exec.fifo')) && stillInit(state) ? 'created' : 'running';
}

/** The init has not exec'd the entrypoint yet: its command line is still `droplet init ID`.
 * The FIFO alone does not say so: a start killed after its byte leaves the FIFO behind. */
function stillInit(state: StoredState): boolean {
  try {
    return readFileSync(`/proc/${state.pid}/cmdline`, 'utf8').startsWith(`droplet\0init\0${state.id}\0`);
  } catch {
    return false;
  }
}

/** The status as seen by a command that holds the lock: a "creating" is a create that died. */
export function statusUnderLock(state: StoredState, dir: string): Status {
  return state.phase === 'creating' ? unfinishedStatus(state.pid, state.initStartTime) : deriveStatus(state, dir);
}

/** What a create that died before it finished left: its init alive is unknown, else stopped. */
export function unfinishedStatus(pid: number, startTime: string): Status {
  return isAlive(pid, startTime) ? 'unknown' : 'stopped';
}

/** The state document `droplet state` prints (runtime-spec state, plus runc's extra fields). */
export function publicState(state: StoredState, status: Status) {
  return {
    ociVersion: state.ociVersion,
    id: state.id,
    pid: status === 'stopped' ? 0 : state.pid,
    status,
    bundle: state.bundle,
    rootfs: state.rootfs,
    created: state.created,
    owner: state.owner,
    annotations: state.annotations,
  };
}
