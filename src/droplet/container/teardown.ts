import { writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { UserError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { sleepMs } from '../../lib/sleep.js';
import { isOwn, ownedCgroupPids, removeCgroups, type CgroupDir } from '../../linux/cgroups/container-cgroup.js';
import { thawForKill } from '../../linux/cgroups/freezer.js';
import { hookState, killRecordedHooks, runHooks } from './hooks.js';
import { isAlive, isRunning } from '../../lib/proc-stat.js';
import { signalProcess } from '../../lib/signal.js';
import type { StoredState, Store } from './store.js';

const KILL_WAIT_MS = 10_000;

/** delete, and a create that failed: ends every process of the container (thaw, kill, wait,
 * check that none is left), then removes the cgroups droplet made for it and its state
 * directory; a container that ran (log given) then gets its poststop hooks. Processes are
 * the init and those in the container's own cgroups, and what hooks of a killed droplet left.
 * Nothing is removed while one of them lives: the error names them, and delete can be run
 * again. */
export function teardown(state: StoredState, store: Store, log?: Logger): void {
  killRecordedHooks(store.dir(state.id));
  killAll(state);
  removeCgroups(state.cgroups);
  store.remove(state.id);
  if (log) runHooks('poststop', state.hooks?.poststop ?? [], hookState(state, 'stopped'), log);
}

function killAll(state: StoredState): void {
  const deadline = Date.now() + KILL_WAIT_MS;
  for (;;) {
    const left = livingProcesses(state);
    if (left.length === 0) return;
    if (Date.now() > deadline)
      throw new UserError(`${left.length} process${left.length === 1 ? '' : 'es'} of the container did not die within ${KILL_WAIT_MS / 1000} s (pid ${left.slice(0, 5).join(', ')}${left.length > 5 ? ', ...' : ''})`);
    /* a frozen task dies only once thawed */
    thawForKill(state.cgroups);
    killCgroups(state.cgroups);
    for (const pid of left) signalProcess(pid, 'SIGKILL');
    sleepMs(2);
  }
}

/** The init, if alive, and the living processes of the container's own cgroups. */
function livingProcesses(state: StoredState): number[] {
  const pids = ownedCgroupPids(state.cgroups).filter(isRunning);
  if (isAlive(state.pid, state.initStartTime) && !pids.includes(state.pid)) pids.push(state.pid);
  return pids;
}

/** cgroup v2's cgroup.kill: the kernel kills the whole cgroup at once, forks racing included.
 * Only for the container's own cgroups; absent before Linux 5.14, where the signals do it. */
function killCgroups(dirs: CgroupDir[]): void {
  for (const d of dirs) {
    if (d.hierarchy.version !== 2 || !isOwn(d)) continue;
    try {
      writeFileSync(posix.join(d.dir, 'cgroup.kill'), '1');
    } catch {
      /* no cgroup.kill here */
    }
  }
}
