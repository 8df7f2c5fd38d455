import { closeSync, constants, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { NotFoundError, UserError, errnoCode, reason } from './errors.js';
import { sleepMs } from './sleep.js';
import { native } from './native.js';

const WAIT_MS = 30_000;

/** A lock on one object (a container) kept in a directory of its own: flock(2) on the
 * directory itself. `what` names the object in errors ("container c1"). The kernel
 * drops it when its holder exits, however it exits, so a droplet killed while holding it is
 * no holder at all and the next command takes it at once; and taking it writes nothing, so
 * it works on a full disk and leaves no file for a delete to race with. A live holder is
 * waited for, up to 30 s. */
export function withLock<T>(dir: string, what: string, fn: () => T): T {
  const fd = acquire(dir, what);
  try {
    return fn();
  } finally {
    closeSync(fd);
  }
}

/** The directories this process holds with withLockAsync. A synchronous wait for one of
 * them would block the very event loop its holder needs to finish (a server's requests on
 * one container), so it is refused at once instead. */
const heldAsync = new Map<string, number>();

function acquire(dir: string, what: string): number {
  if (heldAsync.has(dir)) throw new UserError(`${what} is busy with another request; try again`, { kind: 'conflict' });
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const fd = tryAcquire(dir, what, deadline);
    if (fd !== undefined) return fd;
    sleepMs(5);
  }
}

/** One try: the fd holding the lock, or undefined; past the deadline, the holder's error. */
function tryAcquire(dir: string, what: string, deadline: number): number | undefined {
  const fd = openDir(dir, what);
  /* the container may have been deleted, and its id taken again, while we waited */
  if (native().tryFlock(fd, true) && isStill(fd, dir)) return fd;
  const holder = Date.now() > deadline ? holderOf(fd) : undefined;
  closeSync(fd);
  if (holder !== undefined)
    throw new UserError(`${what} is locked by another command${holder && ` (pid ${holder})`}`, { kind: 'conflict' });
  return undefined;
}

function openDir(dir: string, what: string): number {
  try {
    return openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') throw new NotFoundError(`${what} does not exist`);
    throw new UserError(`lock ${what}: ${reason(err)}`);
  }
}

function isStill(fd: number, dir: string): boolean {
  try {
    return fstatSync(fd).ino === statSync(dir).ino;
  } catch {
    return false;
  }
}

/** The pid holding the lock, from /proc/locks; "" if it cannot be told. */
function holderOf(fd: number): string {
  try {
    const { dev, ino } = fstatSync(fd);
    const hex = (n: number) => n.toString(16).padStart(2, '0');
    const where = `${hex((dev >>> 8) & 0xfff)}:${hex((dev & 0xff) | ((dev >>> 12) & 0xfff00))}:${ino}`;
    const line = readFileSync('/proc/locks', 'utf8')
      .split('\n')
      .find((l) => / FLOCK /.test(l) && l.includes(` ${where} `));
    return line?.trim().split(/\s+/)[4] ?? '';
  } catch {
    return '';
  }
}

/** A live droplet command holds the container's lock. */
export function isLocked(dir: string): boolean {
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    return false;
  }
  try {
    return !native().tryFlock(fd, false);
  } finally {
    closeSync(fd);
  }
}

/** withLock for work that awaits: the lock is held until the promise settles. The wait
 * for it awaits too, so that a holder in this process (another request of a server) goes
 * on meanwhile. */
export async function withLockAsync<T>(dir: string, what: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  let fd = tryAcquire(dir, what, deadline);
  while (fd === undefined) {
    await new Promise((r) => setTimeout(r, 5));
    fd = tryAcquire(dir, what, deadline);
  }
  heldAsync.set(dir, (heldAsync.get(dir) ?? 0) + 1);
  try {
    return await fn();
  } finally {
    closeSync(fd);
    const n = (heldAsync.get(dir) ?? 1) - 1;
    if (n === 0) heldAsync.delete(dir);
    else heldAsync.set(dir, n);
  }
}
