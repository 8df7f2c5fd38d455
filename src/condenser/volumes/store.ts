import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { NotFoundError, UserError, errnoCode, reason } from '../../lib/errors.js';
import { withLock } from '../../lib/lock.js';
import { isVolumeName } from './names.js';
import type { VolumeRecord } from './record.js';

/** Where volumes live, as docker's local driver keeps them:
 *   <root>/volumes/<name>/_data        the content, what containers mount
 *   <root>/volumes/<name>/volume.json  the metadata (VolumeRecord)
 * A volume appears and disappears whole: it is made in a directory beside it whose name no
 * volume can have (a leading dot) and renamed into place, and renamed away before it is
 * deleted. Changes are made holding the lock (flock on `<root>/volumes`). */
export class VolumeStore {
  constructor(readonly root: string) {}

  get dir(): string {
    return join(this.root, 'volumes');
  }
  volumeDir(name: string): string {
    return join(this.dir, name);
  }
  dataDir(name: string): string {
    return join(this.volumeDir(name), '_data');
  }
  private metaPath(name: string): string {
    return join(this.volumeDir(name), 'volume.json');
  }

  /** Runs fn holding the volumes' lock; what a killed command left half made goes first. */
  locked<T>(fn: () => T): T {
    mkdirSync(this.dir, { recursive: true, mode: 0o701 });
    return withLock(this.dir, 'the volume store', () => {
      this.sweep();
      return fn();
    });
  }

  /** Staging directories of creates and removes that did not finish. */
  private sweep(): void {
    for (const entry of readdirSync(this.dir)) if (entry.startsWith('.')) rmSync(join(this.dir, entry), { recursive: true, force: true });
  }

  exists(name: string): boolean {
    return isVolumeName(name) && readMeta(this.metaPath(name)) !== undefined;
  }

  read(name: string): VolumeRecord {
    const record = isVolumeName(name) ? readMeta(this.metaPath(name)) : undefined;
    if (!record) throw new NotFoundError(`no such volume: ${name}`);
    return record;
  }

  /** Every volume, by name. */
  list(): VolumeRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw new UserError(`list ${this.dir}: ${reason(err)}`);
    }
    return names
      .filter(isVolumeName)
      .sort()
      .flatMap((n) => readMeta(this.metaPath(n)) ?? []);
  }

  /** Makes the volume, empty; with the lock held. */
  create(record: VolumeRecord): void {
    const staging = join(this.dir, `.new-${record.Name}-${process.pid}`);
    try {
      mkdirSync(join(staging, '_data'), { recursive: true, mode: 0o755 });
      writeFileAtomic(join(staging, 'volume.json'), `${JSON.stringify(record, null, 2)}\n`, 0o600);
      renameSync(staging, this.volumeDir(record.Name));
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      throw new UserError(`create volume ${record.Name}: ${reason(err)}`);
    }
  }

  /** Removes the volume and its content; with the lock held. */
  remove(name: string): void {
    const doomed = join(this.dir, `.rm-${name}-${process.pid}`);
    try {
      renameSync(this.volumeDir(name), doomed);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new NotFoundError(`no such volume: ${name}`);
      throw new UserError(`remove volume ${name}: ${reason(err)}`);
    }
    rmSync(doomed, { recursive: true, force: true });
  }
}

function readMeta(path: string): VolumeRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw new UserError(`read ${path}: ${reason(err)}`);
  }
  try {
    return JSON.parse(text) as VolumeRecord;
  } catch (err) {
    throw new UserError(`${path} is corrupt: ${(err as Error).message}`);
  }
}
