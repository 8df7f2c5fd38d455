import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError, reason } from '../lib/errors.js';
import type { Containers } from './containers/containers.js';
import type { ImageStore } from './store/store.js';

export interface ResetReport {
  containers: string[];
  images: number;
}

/** What only raind's store holds at its top: a directory without any of them is refused,
 * so that a mistyped --root cannot empty some other directory. */
const STORE_MARKS = ['containers', 'names', 'images.json', 'blobs', 'layers', 'l', 'tmp', 'locks', 'volumes'];

/** system reset: every container removed (as rm -f), then every mount left below the store
 * and the run root undone, then everything in both removed: images, layers, blobs, volumes,
 * names, the runtimes' state. The two directories themselves stay, empty. */
export async function resetStore(containers: Containers, images: ImageStore, root: string, runRoot: string): Promise<ResetReport> {
  const roots = [resolve(root), resolve(runRoot)];
  for (const dir of roots) if (dir === '/') throw new UserError(`system reset: refusing to empty "/"`, { kind: 'invalid' });
  const entries = existsSync(roots[0] ?? root) ? readdirSync(roots[0] ?? root) : [];
  if (entries.length > 0 && !entries.some((e) => STORE_MARKS.includes(e)))
    throw new UserError(`system reset: ${root} does not look like raind's store (none of ${STORE_MARKS.join(', ')})`, {
      kind: 'invalid',
    });
  const report: ResetReport = { containers: [], images: 0 };
  try {
    report.images = images.images().length;
  } catch {
    /* an unreadable images.json goes with the rest */
  }
  for (const id of containers.store.ids()) {
    await containers.remove(id, true);
    report.containers.push(id);
  }
  for (const point of mountsBelow(roots)) unmount(point);
  for (const dir of roots) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      try {
        rmSync(join(dir, name), { recursive: true, force: true });
      } catch (err) {
        throw new UserError(`system reset: remove ${join(dir, name)}: ${reason(err)}`);
      }
    }
  }
  return report;
}

/** Mount points below the directories, the deepest first. */
function mountsBelow(dirs: string[]): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))))
    .filter((p) => dirs.some((d) => p.startsWith(`${d}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

function unmount(point: string): void {
  if (spawnSync('umount', [point]).status === 0) return;
  const lazy = spawnSync('umount', ['-l', point], { encoding: 'utf8' });
  if (lazy.status !== 0) throw new UserError(`system reset: unmount ${point}: ${(lazy.stderr ?? '').trim().split('\n').pop() ?? ''}`);
}
