import { UserError } from '../../lib/errors.js';
import { sleepMs } from '../../lib/sleep.js';
import { readCgroupFile, readKeyValues, writeCgroupFile } from './cgroup-file.js';
import { ownedCgroupTrees, type CgroupDir } from './container-cgroup.js';

/** pause/resume: the v1 freezer controller (freezer.state) or cgroup v2's cgroup.freeze.
 * Where both exist (hybrid hosts) the v1 freezer is used, as runc does. Both freezers are
 * plain directories here, so tests can drive the v2 one on a test cgroup of their own. */
export interface Freezer {
  version: 1 | 2;
  dir: string;
}

export function containerFreezer(dirs: CgroupDir[]): Freezer | undefined {
  const v1 = dirs.find((d) => d.hierarchy.version === 1 && d.hierarchy.key.split(',').includes('freezer'));
  if (v1) return { version: 1, dir: v1.dir };
  const v2 = dirs.find((d) => d.hierarchy.version === 2);
  return v2 ? { version: 2, dir: v2.dir } : undefined;
}

export type FreezerState = 'thawed' | 'freezing' | 'frozen';

export function freezerState(f: Freezer): FreezerState {
  if (f.version === 1) {
    const s = readCgroupFile(f.dir, 'freezer.state')?.trim();
    return s === 'FROZEN' ? 'frozen' : s === 'FREEZING' ? 'freezing' : 'thawed';
  }
  if (readCgroupFile(f.dir, 'cgroup.freeze')?.trim() !== '1') return 'thawed';
  return readKeyValues(f.dir, 'cgroup.events').frozen === 1 ? 'frozen' : 'freezing';
}

/** Frozen in the container's freezer: the status is "paused". False when there is none. */
export function isPaused(dirs: CgroupDir[]): boolean {
  const f = containerFreezer(dirs);
  return !!f && freezerState(f) === 'frozen';
}

/** Freezes and waits until every task is frozen: a task in an uninterruptible sleep holds
 * the cgroup in FREEZING, and the write is repeated until the kernel catches it (runc does
 * the same). Gives up after about two seconds, thawing again. */
export function freeze(f: Freezer): void {
  const write = () => writeCgroupFile(f.dir, f.version === 1 ? 'freezer.state' : 'cgroup.freeze', f.version === 1 ? 'FROZEN' : '1', 'freeze');
  write();
  for (let i = 1; i <= 2000; i++) {
    if (freezerState(f) === 'frozen') return;
    if (i % 100 === 0) write();
    sleepMs(1);
  }
  thaw(f);
  throw new UserError(`freeze ${f.dir}: the tasks did not freeze within 2 s`);
}

export function thaw(f: Freezer): void {
  writeCgroupFile(f.dir, f.version === 1 ? 'freezer.state' : 'cgroup.freeze', f.version === 1 ? 'THAWED' : '0', 'thaw');
  for (let i = 0; i < 2000 && freezerState(f) !== 'thawed'; i++) sleepMs(1);
}

/** Before killing a container: frozen tasks do not die until thawed, in the container's
 * freezer and in any the container froze itself below its own cgroups (a v1 child stays
 * frozen when its parent thaws). */
export function thawForKill(dirs: CgroupDir[]): void {
  const f = containerFreezer(dirs);
  const freezers: Freezer[] = f ? [f] : [];
  const v1 = dirs.filter((d) => d.hierarchy.version === 1 && d.dir === f?.dir);
  const v2 = dirs.filter((d) => d.hierarchy.version === 2);
  for (const dir of ownedCgroupTrees(v1)) if (dir !== f?.dir) freezers.push({ version: 1, dir });
  for (const dir of ownedCgroupTrees(v2)) if (dir !== f?.dir) freezers.push({ version: 2, dir });
  for (const x of freezers) {
    try {
      if (freezerState(x) !== 'thawed') thaw(x);
    } catch {
      /* a cgroup that is gone has nothing left to thaw */
    }
  }
}
