import { UsageError } from '../lib/errors.js';
import { parseDuration } from '../lib/units.js';
import type { Engine } from '../condenser/engine.js';
import { entryMillis, type LogEntry, LogReader, lastLines } from '../condenser/logs/k8s-file.js';
import { parseOptions, splitAtPositional } from './container-flags.js';
import { err, out } from './output.js';

const LOG_OPTIONS = {
  follow: { type: 'boolean', short: 'f' },
  since: { type: 'string' },
  until: { type: 'string' },
  tail: { type: 'string', short: 'n' },
  timestamps: { type: 'boolean', short: 't' },
} as const;

/** logs [-f] [--since T] [--until T] [--tail N] [-t] CONTAINER */
export async function containerLogs(engine: Engine, argv: string[]): Promise<number> {
  const { options, rest } = splitAtPositional(argv, LOG_OPTIONS);
  const values = parseOptions('logs', options, LOG_OPTIONS);
  if (rest.length !== 1) throw new UsageError('logs: expected one container');
  const since = values.since === undefined ? undefined : timeFlag('--since', String(values.since));
  const until = values.until === undefined ? undefined : timeFlag('--until', String(values.until));
  let tail: number | undefined;
  if (values.tail !== undefined && values.tail !== 'all') {
    tail = Number(values.tail);
    if (!/^\d+$/.test(String(values.tail))) throw new UsageError(`logs: --tail must be a number or "all", not "${values.tail}"`);
  }
  const containers = engine.containers;
  const id = containers.resolve(rest[0] ?? '');
  const reader = LogReader.open(containers.logPath(id));
  if (!reader) return 0;
  const show = (entries: LogEntry[]) => {
    for (const e of entries) {
      const t = entryMillis(e.time);
      if (since !== undefined && t < since) continue;
      if (until !== undefined && t > until) continue;
      const text = values.timestamps ? `${e.time} ${e.text}` : e.text;
      (e.stream === 'stderr' ? err : out)(text);
    }
  };
  let entries = reader.read();
  if (tail !== undefined) entries = lastLines(entries, tail);
  show(entries);
  if (!values.follow) return 0;
  for (;;) {
    const running = isRunning(engine, id);
    await new Promise((r) => setTimeout(r, 100));
    show(reader.read());
    if (!running) return 0;
  }
}

function isRunning(engine: Engine, id: string): boolean {
  try {
    const s = engine.containers.inspect(id).State.Status;
    return s === 'running' || s === 'paused' || s === 'created' || s === 'restarting';
  } catch {
    return false;
  }
}

/** docker's --since/--until: an RFC 3339 time, a Unix time, or a duration before now. */
export function timeFlag(flag: string, text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const t = Date.parse(text);
  if (!Number.isNaN(t)) return t;
  return Date.now() - parseDuration(text, `logs: ${flag}`);
}

/** Prints the container's output until it exits: `run` in the foreground without a
 * terminal. The reader is opened before the start, so nothing is missed, even when --rm
 * removes the container at once. */
export async function followUntilExit(engine: Engine, id: string, reader: LogReader): Promise<void> {
  for (;;) {
    const running = isRunning(engine, id);
    for (const e of reader.read()) (e.stream === 'stderr' ? err : out)(e.text);
    if (!running) {
      for (const e of reader.read()) (e.stream === 'stderr' ? err : out)(e.text);
      reader.close();
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
