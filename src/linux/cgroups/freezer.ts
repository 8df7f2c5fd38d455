import { UserError } from '../../lib/errors.js';
import { sleepMs } from '../../lib/sleep.js';
import { writeCgroupFile } from './cgroup-file.js';
import { V1_FREEZER } from './v1/freezer.js';
import { V2_FREEZER } from './v2/freezer.js';
import type { FreezerFile, FreezerState } from './freezer-file.js';

/** pause/resume: the v1 freezer controller (freezer.state) or cgroup v2's cgroup.freeze.
 * Which one a container uses is its driver's choice (on hybrid hosts the v1 freezer, as runc
 * does). Both freezers are plain directories here, so tests can drive the v2 one on a test
 * cgroup of their own. */
export interface Freezer {
  version: 1 | 2;
  dir: string;
}

export type { FreezerFile, FreezerState } from './freezer-file.js';

const FREEZER_FILES: Record<Freezer['version'], FreezerFile> = { 1: V1_FREEZER, 2: V2_FREEZER };

export function freezerState(f: Freezer): FreezerState {
  return FREEZER_FILES[f.version].state(f.dir);
}

/** Freezes and waits until every task is frozen: a task in an uninterruptible sleep holds
 * the cgroup in FREEZING, and the write is repeated until the kernel catches it (runc does
 * the same). Gives up after about two seconds, thawing again. */
export function freeze(f: Freezer): void {
  const kind = FREEZER_FILES[f.version];
  const write = () => writeCgroupFile(f.dir, kind.file, kind.frozen, 'freeze');
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
  const kind = FREEZER_FILES[f.version];
  writeCgroupFile(f.dir, kind.file, kind.thawed, 'thaw');
  for (let i = 0; i < 2000 && freezerState(f) !== 'thawed'; i++) sleepMs(1);
}

/** Before killing a container: frozen tasks do not die until thawed. Each driver lists the
 * freezers: the container's, and any the container froze itself below its own cgroups. */
export function thawAll(freezers: Freezer[]): void {
  for (const x of freezers) {
    try {
      if (freezerState(x) !== 'thawed') thaw(x);
    } catch {
      /* a cgroup that is gone has nothing left to thaw */
    }
  }
}
