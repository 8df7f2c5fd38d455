import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError, UserError, errnoCode, reason } from '../../lib/errors.js';
import { sleepMs } from '../../lib/sleep.js';
import { parseStoredState, type StoredState } from './state-file.js';

export type { StoredState } from './state-file.js';

export const STATE_OCI_VERSION = '1.2.1';

export class NoSuchContainer extends NotFoundError {
  constructor(id: string) {
    super(`container ${id} does not exist`);
  }
}

/** A state directory whose state.json is missing or cannot be trusted: `list` shows it,
 * `delete --force` removes it with what it can recover. */
export class BrokenState extends UserError {
  constructor(
    readonly file: string,
    readonly missing: boolean,
    why: string,
  ) {
    super(`state file ${file} ${why}`);
  }
}

/** runc's rule for ids, which also keeps them one path component. */
export function validateId(id: string | undefined): string {
  if (!id) throw new UserError('a container id is required');
  if (!/^[\w+.-]+$/.test(id) || id === '.' || id === '..')
    throw new UserError(`invalid container id "${id}": use letters, digits, "_", "+", "-" and "."`);
  return id;
}

export class Store {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  fifo(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  /** Claims the id: the directory's creation is atomic, so two creates cannot both win. */
  claim(id: string): void {
    try {
      mkdirSync(this.root, { recursive: true, mode: 0o711 });
      mkdirSync(this.dir(id), { mode: 0o711 });
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') throw new UserError(`container id ${id} is already in use`, { kind: 'conflict' });
      throw new UserError(`create state directory ${this.dir(id)}: ${reason(err)}`);
    }
  }

  read(id: string): StoredState {
    const file = join(this.dir(id), 'state.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw new BrokenState(file, false, `cannot be read: ${reason(err)}`);
      if (!this.exists(id)) throw new NoSuchContainer(id);
      throw new BrokenState(file, true, 'is missing');
    }
    try {
      return parseStoredState(text, id);
    } catch (err) {
      throw new BrokenState(file, false, `is corrupt: ${(err as Error).message}`);
    }
  }

  exists(id: string): boolean {
    try {
      return statSync(this.dir(id)).isDirectory();
    } catch {
      return false;
    }
  }

  /** write + rename: a reader sees the old state or the new one, never half of one. */
  write(state: StoredState): void {
    const file = join(this.dir(state.id), 'state.json');
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(state));
      renameSync(tmp, file);
    } catch (err) {
      try {
        unlinkSync(tmp);
      } catch {
        /* never made */
      }
      throw new UserError(`write ${file}: ${reason(err)}`);
    }
  }

  /** Removes the state directory. A command that raced the delete may make its lock file in
   * it meanwhile ("directory not empty"): then again, until it is gone. */
  remove(id: string): void {
    for (let attempt = 0; ; attempt++) {
      try {
        rmSync(this.dir(id), { recursive: true, force: true });
        return;
      } catch (err) {
        if (errnoCode(err) !== 'ENOTEMPTY' || attempt >= 100) throw new UserError(`remove ${this.dir(id)}: ${reason(err)}`);
        sleepMs(2);
      }
    }
  }

  ids(): string[] {
    try {
      return readdirSync(this.root, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw new UserError(`list ${this.root}: ${reason(err)}`);
    }
  }
}
