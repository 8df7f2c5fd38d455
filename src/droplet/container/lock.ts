import { closeSync, openSync, readFileSync, unlinkSync, writeSync, constants } from 'node:fs';
import { join } from 'node:path';
import { UserError, errnoCode, reason } from '../../common/errors.js';
import { sleepMs } from '../../common/sleep.js';
import { isAlive, readProcStat } from './proc-stat.js';

const LOCK_FILE = '.lock';
const WAIT_MS = 30_000;

/** A per-container lock: a file created with O_EXCL that names its holder by pid and start
 * time, so the lock of a droplet that died is taken over instead of blocking forever. */
export function withLock<T>(dir: string, id: string, fn: () => T): T {
  const release = acquire(dir, id);
  try {
    return fn();
  } finally {
    release();
  }
}

let holder: string | undefined;

function acquire(dir: string, id: string): () => void {
  const file = join(dir, LOCK_FILE);
  const me = (holder ??= `${process.pid} ${readProcStat(process.pid)?.startTime ?? ''}`);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      writeSync(fd, me);
      closeSync(fd);
      return () => {
        try {
          unlinkSync(file);
        } catch {
          /* the container directory is already gone (delete) */
        }
      };
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') throw new UserError(`container ${id} does not exist`);
      if (code !== 'EEXIST') throw new UserError(`lock container ${id}: ${reason(err)}`);
    }
    if (holderIsGone(file)) {
      try {
        unlinkSync(file);
      } catch {
        /* another waiter took it over first */
      }
      continue;
    }
    if (Date.now() > deadline) throw new UserError(`container ${id} is locked by another droplet command`);
    sleepMs(5);
  }
}

/** A live droplet command holds the container's lock. */
export function isLocked(dir: string): boolean {
  const file = join(dir, LOCK_FILE);
  try {
    readFileSync(file);
  } catch {
    return false;
  }
  return !holderIsGone(file);
}

function holderIsGone(file: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  const [pid, start] = text.split(' ');
  /* an empty file is a holder between open and write: give it time */
  if (!pid || !start) return false;
  return !isAlive(Number(pid), start);
}
