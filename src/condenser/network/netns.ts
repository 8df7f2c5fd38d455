import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../../lib/errors.js';

/** A new network namespace pinned as a file (a bind mount of it), so that it outlives the
 * process that made it and the runtime can join it by path. unshare(1) makes it: a
 * namespace of the engine's own process would move only one of Node's threads. */
export function makeNetns(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'w', 0o600));
  const r = spawnSync('unshare', [`--net=${path}`, 'true'], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(path, { force: true });
    throw new UserError(`make the network namespace ${path}: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
  }
}

/** Unpins and removes it; nothing to do when it is already gone. */
export function removeNetns(path: string): void {
  if (!existsSync(path)) return;
  spawnSync('umount', ['--lazy', path], { stdio: 'ignore' });
  rmSync(path, { force: true });
}
