import { UserError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { sleepMs } from '../../lib/sleep.js';
import { cgroupManager, type CgroupManager } from '../../linux/cgroups/manager.js';
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
  const cgroups = cgroupManager(state.cgroups);
  killRecordedHooks(store.dir(state.id));
  killAll(state, cgroups);
  cgroups.remove();
  store.remove(state.id);
  if (log) runHooks('poststop', state.hooks?.poststop ?? [], hookState(state, 'stopped'), log);
}

function killAll(state: StoredState, cgroups: CgroupManager): void {
  const deadline = Date.now() + KILL_WAIT_MS;
  for (;;) {
    const left = livingProcesses(state, cgroups);
    if (left.length === 0) return;
    if (Date.now() > deadline)
      throw new UserError(
        `${left.length} process${left.length === 1 ? '' : 'es'} of the container did not die within ${KILL_WAIT_MS / 1000} s (pid ${left.slice(0, 5).join(', ')}${left.length > 5 ? ', ...' : ''})`,
      );
    /* a frozen task dies only once thawed */
    cgroups.thawForKill();
    cgroups.kill();
    for (const pid of left) signalProcess(pid, 'SIGKILL');
    sleepMs(2);
  }
}

/** The init, if alive, and the living processes of the container's own cgroups. */
function livingProcesses(state: StoredState, cgroups: CgroupManager): number[] {
  const pids = cgroups.ownedPids().filter(isRunning);
  if (isAlive(state.pid, state.initStartTime) && !pids.includes(state.pid)) pids.push(state.pid);
  return pids;
}
