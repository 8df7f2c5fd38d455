import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { containerCgroupDirs, pidsUnder, type CgroupDir } from '../../linux/cgroups/container-cgroup.js';
import { containerCgroupsPath } from './cgroups-path.js';
import { isLocked } from '../../lib/lock.js';
import { isAlive } from '../../lib/proc-stat.js';
import { recordedProcesses } from './process-record.js';
import type { Status } from './status.js';
import { STATE_OCI_VERSION, type BrokenState, type StoredState, type Store } from './store.js';

/** What droplet can still learn of a container whose state.json is missing or corrupt: the
 * init its create recorded, and the cgroups its id (or the config saved at create) leads to.
 * Without the state nothing says droplet made those cgroups, so one counts as the container's
 * own only if it holds the recorded init, or nothing at all. */
export function recoverState(store: Store, id: string): StoredState {
  const dir = store.dir(id);
  const inits = recordedProcesses(dir, 'init');
  const init = inits.find((r) => isAlive(r.pid, r.startTime));
  const cgroups = derivedCgroups(dir, id);
  for (const d of cgroups) {
    const pids = existsSync(d.dir) ? pidsUnder(d.dir) : undefined;
    d.owned = !!pids && (pids.length === 0 || (!!init && pids.includes(init.pid)));
  }
  return {
    ociVersion: STATE_OCI_VERSION,
    id,
    phase: 'created',
    pid: init?.pid ?? 0,
    initStartTime: init?.startTime ?? '',
    bundle: '',
    rootfs: '',
    created: '',
    owner: '',
    annotations: {},
    cgroups,
    hooks: { poststart: [], poststop: [] },
  };
}

/** The status `list` shows for it: being created (its state not written yet), unknown while
 * a process of it may live or its file is corrupt, stopped when there is only a directory. */
export function recoveredStatus(store: Store, state: StoredState, broken: BrokenState): Status {
  if (isLocked(store.dir(state.id))) return 'creating';
  if (isAlive(state.pid, state.initStartTime)) return 'unknown';
  return broken.missing ? 'stopped' : 'unknown';
}

function derivedCgroups(dir: string, id: string): CgroupDir[] {
  let cgroupsPath: unknown;
  try {
    cgroupsPath = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))?.linux?.cgroupsPath;
  } catch {
    /* no saved config: the default path */
  }
  try {
    return containerCgroupDirs(containerCgroupsPath(typeof cgroupsPath === 'string' ? cgroupsPath : undefined, id));
  } catch {
    return containerCgroupDirs(containerCgroupsPath(undefined, id));
  }
}
