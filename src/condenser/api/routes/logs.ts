import { type LogEntry, LogReader, entryMillis, lastLines } from '../../logs/k8s-file.js';
import { ApiError } from '../http-io.js';
import { type ApiRequest, queryBool } from '../request.js';
import type { Router } from '../router.js';
import { frame, streamContentType } from '../stream-frames.js';

/** How often a follow looks for new lines (and whether the container still runs). */
const FOLLOW_POLL_MS = 100;

export function logRoutes(router: Router): void {
  router.get('/containers/{id}/logs', containerLogs);
}

/** logs?follow=&stdout=&stderr=&since=&until=&timestamps=&tail=: the container's k8s-file
 * log, framed without a terminal and raw with one; a follow ends once the container has
 * stopped and its last lines are sent, as docker's does. */
async function containerLogs(r: ApiRequest): Promise<void> {
  const containers = r.engine.containers;
  const record = containers.inspect(r.params.id ?? '');
  const id = record.Id;
  const stdout = queryBool(r, 'stdout');
  const stderr = queryBool(r, 'stderr');
  if (!stdout && !stderr) throw new ApiError(400, 'You must choose at least one stream');
  const follow = queryBool(r, 'follow');
  const timestamps = queryBool(r, 'timestamps');
  const since = timeParam(r, 'since');
  const until = timeParam(r, 'until');
  const tail = tailParam(r);
  const tty = record.Config.Tty;
  const res = r.res;
  res.writeHead(200, { 'Content-Type': streamContentType(tty) });
  res.flushHeaders();
  const reader = LogReader.open(containers.logPath(id));
  if (!reader) return void res.end();
  let gone = false;
  res.once('close', () => {
    gone = true;
  });
  const send = (entries: LogEntry[]) => {
    for (const e of entries) {
      if (e.stream === 'stdout' ? !stdout : !stderr) continue;
      const t = entryMillis(e.time);
      if (since !== undefined && t < since) continue;
      if (until !== undefined && t > until) continue;
      const data = Buffer.from(timestamps ? `${dockerTime(e.time)} ${e.text}` : e.text);
      res.write(tty ? data : frame(e.stream === 'stdout' ? 1 : 2, data));
    }
  };
  try {
    let entries = reader.read();
    if (tail !== undefined) entries = lastLines(entries, tail);
    send(entries);
    /* until: nothing past it will come */
    while (follow && !gone && (until === undefined || Date.now() <= until)) {
      const running = isRunning(r, id);
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
      send(reader.read());
      if (!running) break;
    }
  } finally {
    reader.close();
  }
  if (!gone) res.end();
}

function isRunning(r: ApiRequest, id: string): boolean {
  try {
    const s = r.engine.containers.inspect(id).State.Status;
    return s === 'running' || s === 'paused' || s === 'created' || s === 'restarting';
  } catch {
    return false;
  }
}

/** docker's since/until: Unix seconds, with a fraction (the CLI turns durations and dates
 * into these); 0 or absent is no bound. Milliseconds. */
function timeParam(r: ApiRequest, name: string): number | undefined {
  const v = r.query.get(name);
  if (v === null || v === '' || v === '0') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new ApiError(400, `query parameter ${name} must be a Unix time, not "${v}"`);
  return t;
}

/** tail: a number of lines, or all. */
function tailParam(r: ApiRequest): number | undefined {
  const v = r.query.get('tail');
  if (v === null || v === '' || v === 'all') return undefined;
  if (!/^\d+$/.test(v)) throw new ApiError(400, `query parameter tail must be a number or "all", not "${v}"`);
  return Number(v);
}

/** conmon writes its zone's offset; docker's timestamps are UTC with a Z. */
function dockerTime(time: string): string {
  return time.replace(/\+00:00$/, 'Z');
}
