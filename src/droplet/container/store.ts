import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
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

/** Written at the claim: empty when droplet made the directory, `shared` in the bundle's. */
const MARKER = 'droplet.claim';

/** What droplet writes into a state directory besides the marker. */
function isDropletFile(name: string): boolean {
  return (
    ['state.json', 'exec.fifo', 'exec.json', 'console.sock'].includes(name) ||
    /^(init|hook)\.\d+\.\d+$/.test(name) ||
    /^exec-\d+\.sock$/.test(name) ||
    /^state\.json\.\d+\.tmp$/.test(name)
  );
}

function isSameDir(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

export class Store {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  fifo(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  /** Claims the id: the directory's creation is atomic, so two creates cannot both win. A
   * bundle that is itself the state directory (an engine's per-container directory, as
   * `--root <root>/containers` with the bundle `<root>/containers/<id>`) is claimed by the
   * exclusive creation of its marker instead; droplet then removes only its own files. The
   * marker is written in both cases, so that a directory droplet did not make is not its. */
  claim(id: string, bundle: string): void {
    const dir = this.dir(id);
    const shared = isSameDir(bundle, dir);
    try {
      if (!shared) {
        mkdirSync(this.root, { recursive: true, mode: 0o711 });
        mkdirSync(dir, { mode: 0o711 });
      }
      try {
        /* empty when droplet made the directory: it takes no block on a full disk */
        writeFileSync(join(dir, MARKER), shared ? 'shared\n' : '', { flag: 'wx' });
      } catch (err) {
        if (!shared) rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') throw new UserError(`container id ${id} is already in use`, { kind: 'conflict' });
      throw new UserError(`create state directory ${dir}: ${reason(err)}`);
    }
  }

  /** Whether the state directory is the container's bundle too (see claim). */
  shared(id: string): boolean {
    try {
      return readFileSync(join(this.dir(id), MARKER), 'utf8') === 'shared\n';
    } catch {
      return false;
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

  /** Whether droplet has a container of this id: a directory with droplet's marker or a
   * state.json, or an empty one (a create killed right after it made it). A bundle
   * directory droplet has not claimed is not a container. */
  exists(id: string): boolean {
    const dir = this.dir(id);
    try {
      if (!statSync(dir).isDirectory()) return false;
      return existsSync(join(dir, MARKER)) || existsSync(join(dir, 'state.json')) || readdirSync(dir).length === 0;
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
    if (this.shared(id)) {
      this.removeOwnFiles(id);
      return;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        /* the marker goes last: a delete killed halfway leaves a directory list still shows */
        const dir = this.dir(id);
        for (const name of readdirSync(dir)) if (name !== MARKER) rmSync(join(dir, name), { recursive: true, force: true });
        rmSync(dir, { recursive: true, force: true });
        return;
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return;
        if (errnoCode(err) !== 'ENOTEMPTY' || attempt >= 100) throw new UserError(`remove ${this.dir(id)}: ${reason(err)}`);
        sleepMs(2);
      }
    }
  }

  /** In a directory shared with the bundle: what droplet wrote there, the marker last. */
  private removeOwnFiles(id: string): void {
    const dir = this.dir(id);
    try {
      for (const name of readdirSync(dir)) if (isDropletFile(name)) rmSync(join(dir, name), { force: true });
      rmSync(join(dir, MARKER), { force: true });
    } catch (err) {
      throw new UserError(`remove droplet's files from ${dir}: ${reason(err)}`);
    }
  }

  ids(): string[] {
    try {
      return readdirSync(this.root, { withFileTypes: true })
        .filter((e) => e.isDirectory() && this.exists(e.name))
        .map((e) => e.name)
        .sort();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw new UserError(`list ${this.root}: ${reason(err)}`);
    }
  }
}
