import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { UserError } from '../../lib/errors.js';
import { isMountPoint } from '../snapshots/overlay.js';

/** Unmounts the container's root (`merged/`) and keeps `diff/`: what the container wrote
 * stays for its next start, for `cp`, `export` and `diff`, until it is removed. */
export function unmountRoot(dir: string, id: string): void {
  const merged = join(dir, 'merged');
  if (!isMountPoint(merged)) return;
  const r = spawnSync('umount', [merged], { encoding: 'utf8' });
  if (r.status === 0) return;
  /* busy: a process of ours still has it open; detach it, it goes when the last one closes */
  const lazy = spawnSync('umount', ['-l', merged], { encoding: 'utf8' });
  if (lazy.status !== 0) throw new UserError(`unmount the root of ${id}: ${(r.stderr || lazy.stderr || '').trim().split('\n').pop()}`);
}
