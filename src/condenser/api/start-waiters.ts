import type { ContainerRecord } from '../containers/record.js';
import type { Engine } from '../engine.js';

type Waiter = (record: ContainerRecord) => void;

/** Attaches waiting for a stopped container to start (docker start -a and compose attach
 * before they start), per engine and container id. */
const waiters = new WeakMap<Engine, Map<string, Set<Waiter>>>();

/** Calls onStart once the container's monitor is up and its init waits to start (the
 * engine's beforeStart), so that an attach made there misses no output. The returned
 * function cancels. */
export function waitForStart(engine: Engine, id: string, onStart: Waiter): () => void {
  let byId = waiters.get(engine);
  if (!byId) {
    byId = new Map();
    waiters.set(engine, byId);
  }
  const set = byId.get(id) ?? new Set();
  byId.set(id, set);
  set.add(onStart);
  return () => {
    set.delete(onStart);
    if (set.size === 0) byId.delete(id);
  };
}

/** The engine's beforeStart for the API's start and restart: hands the record to the
 * attaches that wait for it. */
export function announceStart(engine: Engine, record: ContainerRecord): void {
  const set = waiters.get(engine)?.get(record.Id);
  if (!set) return;
  waiters.get(engine)?.delete(record.Id);
  for (const w of set) w(record);
}
