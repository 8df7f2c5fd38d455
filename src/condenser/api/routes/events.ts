import type { EngineEvent } from '../../events/journal.js';
import { ApiError } from '../http-io.js';
import { type ApiRequest, queryFilters } from '../request.js';
import type { Router } from '../router.js';

/** GET /events: the engine's journal as docker's stream of JSON objects. `since` replays
 * the journal from then (what it still keeps); `until` ends the stream at that time;
 * without them, the events from now on, until the client goes. */
export function eventRoutes(router: Router): void {
  router.get('/events', streamEvents);
}

const FILTER_KEYS = ['type', 'event', 'container', 'image', 'label', 'network', 'volume', 'scope'];

async function streamEvents(r: ApiRequest): Promise<void> {
  const nowNano = Date.now() * 1e6;
  const since = timeParam(r, 'since');
  const until = timeParam(r, 'until');
  const match = eventFilter(queryFilters(r));
  const from = since ?? nowNano;
  r.res.writeHead(200, { 'Content-Type': 'application/json' });
  r.res.flushHeaders();
  let done = false;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const end = () => {
    if (done) return;
    done = true;
    follower.stop();
    clearTimeout(timer);
    if (!r.res.writableEnded) r.res.end();
    finish();
  };
  const follower = r.engine.events.follow(
    (e) => {
      if (done || e.timeNano < from) return;
      if (until !== undefined && e.timeNano > until) return;
      if (match(e)) r.res.write(`${JSON.stringify(e)}\n`);
    },
    /* without since, the past is not read at all */
    { fromEnd: since === undefined },
  );
  r.res.on('close', end);
  let timer: NodeJS.Timeout | undefined;
  /* until: the stream ends once that time has come (a past one at once, after the replay);
   * a timer holds 24 days at most, so a later one is waited for in steps */
  const endAtUntil = () => {
    if (until === undefined) return;
    const left = (until - Date.now() * 1e6) / 1e6 + 50;
    if (left <= 0) end();
    else timer = setTimeout(endAtUntil, Math.min(left, 2 ** 31 - 1));
  };
  endAtUntil();
  await finished;
}

/** docker's time parameters: unix seconds, with a fraction ("1700000000.123456789"), or a
 * date the clients may send (RFC 3339); in nanoseconds. */
function timeParam(r: ApiRequest, name: string): number | undefined {
  const text = r.query.get(name);
  if (text === null || text === '') return undefined;
  const m = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (m) return Number(m[1]) * 1e9 + Number((m[2] ?? '').padEnd(9, '0'));
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed)) throw new ApiError(400, `query parameter ${name} must be a unix time or a date, not "${text}"`);
  return parsed * 1e6;
}

/** docker's event filters: each key's values are alternatives, the keys all hold. */
function eventFilter(filters: Record<string, string[]>): (e: EngineEvent) => boolean {
  const tests: ((e: EngineEvent) => boolean)[] = [];
  for (const [key, values] of Object.entries(filters)) {
    if (!FILTER_KEYS.includes(key)) throw new ApiError(400, `invalid filter '${key}' (${FILTER_KEYS.join(', ')})`);
    const one = (v: string) => (e: EngineEvent) => matches(key, v, e);
    const alternatives = values.map(one);
    /* docker: the values of a key are alternatives, but labels must all be there */
    tests.push((e) => (key === 'label' ? alternatives.every((t) => t(e)) : alternatives.some((t) => t(e))));
  }
  return (e) => tests.every((t) => t(e));
}

/** An actor named by id (or a prefix of it) or by name. */
function names(e: EngineEvent, value: string): boolean {
  return (e.Actor.ID !== '' && e.Actor.ID.startsWith(value)) || e.Actor.Attributes.name === value;
}

function matches(key: string, value: string, e: EngineEvent): boolean {
  const attrs = e.Actor.Attributes;
  switch (key) {
    case 'type':
      return e.Type === value;
    case 'event':
      return e.Action === value;
    case 'scope':
      return value === 'local';
    case 'container':
      return e.Type === 'container' ? names(e, value) : attrs.container === value;
    case 'image':
      return e.Type === 'image' ? names(e, value) || e.Actor.ID === value : attrs.image === value;
    case 'network':
      return e.Type === 'network' && names(e, value);
    case 'volume':
      return e.Type === 'volume' && names(e, value);
    case 'label': {
      const eq = value.indexOf('=');
      const k = eq < 0 ? value : value.slice(0, eq);
      return Object.hasOwn(attrs, k) && (eq < 0 || attrs[k] === value.slice(eq + 1));
    }
    default:
      return false;
  }
}
