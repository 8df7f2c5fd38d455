import { spawnSync } from 'node:child_process';
import { closeSync, readlinkSync } from 'node:fs';
import { UserError } from '../../lib/errors.js';
import { O_PATH, RootDir, fdPath, normalInRoot } from './in-root.js';
import type { ContainerRecord } from './record.js';

/** A stopped container's volumes and binds, bind-mounted on its merged root for a copy, as
 * its start would mount them: docker's cp reads and writes them, not the layer they hide.
 * Each mount point is resolved inside the root (openat2) and mounted on through its fd
 * (`/proc/self/fd/3`, not canonicalised), so no link in the root leads a mount elsewhere;
 * a read-only one is mounted read-only. A mount point the root lacks (never started) is left
 * out. Returns the undo, which unmounts them, innermost first. */
export function mountVolumesForCopy(record: ContainerRecord, merged: string): () => void {
  const mounts = record.Mounts.filter((m) => (m.Type === 'volume' || m.Type === 'bind') && normalInRoot(m.Destination) !== '/').sort(
    (a, b) => normalInRoot(a.Destination).length - normalInRoot(b.Destination).length,
  );
  const mounted: string[] = [];
  const undo = () => {
    for (const target of mounted.reverse()) spawnSync('umount', ['-l', target], { stdio: 'ignore' });
  };
  if (mounts.length === 0) return undo;
  const root = new RootDir(merged);
  try {
    for (const m of mounts) {
      let fd: number;
      try {
        fd = root.open(normalInRoot(m.Destination), O_PATH);
      } catch {
        continue;
      }
      try {
        const target = readlinkSync(fdPath(fd));
        const fail = (r: { status: number | null; stderr: string }) =>
          new UserError(`cp: mount ${m.Source} on ${m.Destination} of ${record.Name}: ${r.stderr.trim() || `exit ${r.status}`}`);
        const bind = spawnSync('mount', ['--no-canonicalize', '--bind', m.Source, '/proc/self/fd/3'], {
          stdio: ['ignore', 'ignore', 'pipe', fd],
          encoding: 'utf8',
        });
        if (bind.status !== 0) throw fail(bind);
        mounted.push(target);
        /* read-only is a remount of the bind, which the fd (the directory under it) is not */
        if (!m.RW) {
          const ro = spawnSync('mount', ['-o', 'remount,bind,ro', target], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
          if (ro.status !== 0) throw fail(ro);
        }
      } finally {
        closeSync(fd);
      }
    }
  } catch (err) {
    undo();
    throw err;
  } finally {
    root.close();
  }
  return undo;
}
