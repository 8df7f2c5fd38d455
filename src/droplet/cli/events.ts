import { writeSync } from 'node:fs';
import { UsageError, UserError } from '../../lib/errors.js';
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
  const intervalMs = parseDuration(values.interval ?? '5s');
  const { store } = ctx;
  const state = store.read(id);
  const running = () => {
    const s = deriveStatus(state, store.dir(id));
    return s !== 'stopped' && s !== 'creating';
  };
  if (!running()) throw new UserError(`container ${id} is not running`);
  const cgroups = cgroupManager(state.cgroups);
  const emit = (event: object) => writeSync(1, statsJson(event) + '\n');
  const stats = () => emit({ type: 'stats', id, data: cgroups.stats() });
  if (values.stats) {
    stats();
    return 0;
  }
  let ooms = cgroups.oomKillCount() ?? 0;
  await new Promise<void>((done) => {
    const statsTimer = setInterval(stats, intervalMs);
    const oomTimer = setInterval(() => {
      const now = cgroups.oomKillCount();
      if (now !== undefined && now > ooms) {
        for (; ooms < now; ooms++) emit({ type: 'oom', id });
      }
      if (!running()) {
        clearInterval(statsTimer);
        clearInterval(oomTimer);
        done();
      }
    }, Math.min(OOM_POLL_MS, intervalMs));
  });
  return 0;
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("5s", "500ms", "1m30s"), in milliseconds; it must be positive. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let ms = 0;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new UsageError(`events: --interval: "${text}" is not a duration such as "5s" or "500ms"`);
    ms += Number(m[1]) * UNITS[m[2]];
    at = re.lastIndex;
  }
  if (!(ms > 0)) throw new UsageError(`events: --interval: "${text}" is not a duration greater than 0`);
  return Math.max(1, Math.round(ms));
}
