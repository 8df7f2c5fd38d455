import type { Context } from '../container/lifecycle.js';
import { withLock } from '../../lib/lock.js';
import { statusUnderLock, type Status } from '../container/status.js';
import { validateId, type StoredState } from '../container/store.js';

/** Runs fn on a container's state and status under its lock (pause, resume, update): a
 * "creating" left behind by a dead create is unknown or stopped, as in lifecycle.ts. */
export function withLockedContainer<T>(ctx: Context, id: string, fn: (state: StoredState, status: Status) => T): T {
  validateId(id);
  const { store } = ctx;
  return withLock(store.dir(id), `container ${id}`, () => {
    const state = store.read(id);
    const status = statusUnderLock(state, store.dir(id));
    return fn(state, status);
  });
}
