import { writeSync } from 'node:fs';
import { UserError } from '../../lib/errors.js';
import { parseDuration } from '../../lib/units.js';
import { cgroupManager } from '../../linux/cgroups/manager.js';
import { statsJson } from '../../linux/cgroups/stats.js';
import type { Context } from '../container/lifecycle.js';
import { deriveStatus } from '../container/status.js';
import { validateId } from '../container/store.js';
import { onlyId, parseCommand } from './args.js';

/** How often the OOM kill counter is read between stats: the v1 memory.oom_control has no
 * change notification droplet can wait on without an eventfd. */
const OOM_POLL_MS = 100;

/** events [--stats] [--interval D] ID: runc's JSON event stream, one object per line:
 * {"type":"stats","id":ID,"data":{...}} every interval (default 5s) and {"type":"oom","id":ID}
 * when the OOM killer kills one of the container's processes. With --stats: one stats event,
 * then exit. The stream ends when the container stops. */
export async function events(ctx: Context, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('events', argv, {
    stats: { type: 'boolean' },
    interval: { type: 'string' },
  });
  const id = validateId(onlyId('events', positionals));
  const intervalMs = parseDuration(values.interval ?? '5s', 'events: --interval');
  const { store } = ctx;
  const state = store.read(id);
  const running = () => {
    const s = deriveStatus(state, store.dir(id));
    return s !== 'stopped' && s !== 'creating';
  };
  if (!running()) throw new UserError(`container ${id} is not running`);
  const cgroups = cgroupManager(state.cgroups);
  const emit = (event: object) => writeSync(1, `${statsJson(event)}\n`);
  const stats = () => emit({ type: 'stats', id, data: cgroups.stats() });
  if (values.stats) {
    stats();
    return 0;
  }
  let ooms = cgroups.oomKillCount() ?? 0;
  await new Promise<void>((done) => {
    const statsTimer = setInterval(stats, intervalMs);
    const oomTimer = setInterval(
      () => {
        const now = cgroups.oomKillCount();
        if (now !== undefined && now > ooms) {
          for (; ooms < now; ooms++) emit({ type: 'oom', id });
        }
        if (!running()) {
          clearInterval(statsTimer);
          clearInterval(oomTimer);
          done();
        }
      },
      Math.min(OOM_POLL_MS, intervalMs),
    );
  });
  return 0;
}
