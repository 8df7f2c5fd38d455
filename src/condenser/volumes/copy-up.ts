import { spawnSync } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { UserError } from '../../lib/errors.js';
import { resolveInRoot } from './resolve-in-root.js';

/** docker's copy-up: an empty volume mounted where the image has a directory gets that
 * directory's tree, and its owner and mode. `cp -a` keeps owners, modes, times, symlinks (never
 * followed), hard links and xattrs (those the volume's filesystem takes). It copies into the
 * volume's directory in place, never replacing it: a running container may have it mounted.
 * Returns whether there was anything to copy. */
export function copyUp(rootfs: string, target: string, data: string): boolean {
  const source = resolveInRoot(rootfs, target);
  if (source === undefined || !lstatSync(source).isDirectory()) return false;
  const r = spawnSync('cp', ['-a', '-T', '--', source, data], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const why = r.error?.message ?? r.stderr.trim().split('\n').pop() ?? `cp exited ${r.status}`;
    throw new UserError(`copy the image's ${target} into its volume: ${why}`);
  }
  return true;
}
