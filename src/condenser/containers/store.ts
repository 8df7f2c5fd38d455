import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { NotFoundError, UserError, errnoCode, reason } from '../../lib/errors.js';
import { withLockAsync } from '../../lib/lock.js';
import { isContainerId, newContainerId } from './id.js';
import type { ContainerRecord } from './record.js';
import { isMountPoint } from '../snapshots/overlay.js';

/** Where a container lives:
 *   <root>/containers/<id>/   the seed's per-container directory: container.json (the
 *                             engine's record), config.json (the OCI config), droplet's
 *                             state.json and exec.fifo, diff/ work/ merged/ (overlay), etc/,
 *                             ctr.log (conmon's k8s-file log)
 *   <root>/names/<name>       a link to the id: names are claimed atomically
 *   <runRoot>/containers/<id>/ what lives while the host is up: the lock (flock on the
 *                             directory), conmon's pid file and the exit file */
export class ContainerStore {
  constructor(
    readonly root: string,
    readonly runRoot: string,
  ) {}

  get containers(): string {
    return join(this.root, 'containers');
  }
  get names(): string {
    return join(this.root, 'names');
  }
  dir(id: string): string {
    return join(this.containers, id);
  }
  runDir(id: string): string {
    return join(this.runRoot, 'containers', id);
  }
  recordPath(id: string): string {
    return join(this.dir(id), 'container.json');
  }

  /** A new id with its directories made: the directory's creation claims the id. */
  claimId(): string {
    mkdirSync(this.containers, { recursive: true, mode: 0o711 });
    for (let attempt = 0; ; attempt++) {
      const id = newContainerId();
      try {
        mkdirSync(this.dir(id), { mode: 0o711 });
        mkdirSync(this.runDir(id), { recursive: true, mode: 0o700 });
        return id;
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST' || attempt > 100) throw new UserError(`make ${this.dir(id)}: ${reason(err)}`);
      }
    }
  }

  /** The name's link is made once: a second container cannot take it. */
  claimName(name: string, id: string): void {
    mkdirSync(this.names, { recursive: true, mode: 0o700 });
    try {
      symlinkSync(id, join(this.names, name));
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw new UserError(`claim the name ${name}: ${reason(err)}`);
      const holder = this.nameHolder(name);
      if (holder !== undefined && holder !== id && !this.exists(holder)) {
        /* a container removed by a killed command left its name: take it over */
        rmSync(join(this.names, name), { force: true });
        this.claimName(name, id);
        return;
      }
      if (holder === id) return;
      throw new UserError(`the container name "${name}" is already in use by container ${holder ?? '?'}`, {
        kind: 'conflict',
        field: 'name',
      });
    }
  }

  releaseName(name: string, id: string): void {
    if (this.nameHolder(name) === id) rmSync(join(this.names, name), { force: true });
  }

  nameHolder(name: string): string | undefined {
    try {
      return readlinkSync(join(this.names, name));
    } catch {
      return undefined;
    }
  }

  exists(id: string): boolean {
    try {
      readFileSync(this.recordPath(id));
      return true;
    } catch {
      return false;
    }
  }

  read(id: string): ContainerRecord {
    let text: string;
    try {
      text = readFileSync(this.recordPath(id), 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new NotFoundError(`no such container: ${id}`);
      throw new UserError(`read ${this.recordPath(id)}: ${reason(err)}`);
    }
    try {
      return JSON.parse(text) as ContainerRecord;
    } catch (err) {
      throw new UserError(`${this.recordPath(id)} is corrupt: ${(err as Error).message}`);
    }
  }

  write(record: ContainerRecord): void {
    try {
      writeFileAtomic(this.recordPath(record.Id), `${JSON.stringify(record, null, 2)}\n`, 0o600);
    } catch (err) {
      throw new UserError(`write ${this.recordPath(record.Id)}: ${reason(err)}`);
    }
  }

  /** Every container directory, those without a record too (a create killed early): rm -f
   * removes them. Sorted by id, which is by creation time. */
  ids(): string[] {
    try {
      return readdirSync(this.containers)
        .filter((n) => isContainerId(n))
        .sort();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw new UserError(`list ${this.containers}: ${reason(err)}`);
    }
  }

  /** An id, a unique prefix of one, or a name: the container's id. */
  resolve(text: string): string {
    if (!text) throw new UserError('a container name or id is required', { kind: 'invalid' });
    const name = text.startsWith('/') ? text.slice(1) : text;
    const ids = this.ids();
    if (ids.includes(text)) return text;
    const holder = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name) ? this.nameHolder(name) : undefined;
    if (holder !== undefined && ids.includes(holder)) return holder;
    const hits = ids.filter((id) => id.startsWith(text));
    if (hits.length === 1 && hits[0]) return hits[0];
    if (hits.length > 1)
      throw new UserError(`container id prefix "${text}" matches ${hits.length} containers (${hits.slice(0, 3).join(', ')}...)`, {
        kind: 'invalid',
      });
    throw new NotFoundError(`no such container: ${text}`);
  }

  /** Runs fn holding the container's lock (flock on its run directory), which serialises
   * the commands on one container and goes with its holder if it is killed. It is taken
   * only this way, waiting without blocking: in a server, the holder may be another request
   * of the same process. */
  lockedAsync<T>(id: string, fn: () => Promise<T>): Promise<T> {
    this.ensureRunDir(id);
    return withLockAsync(this.runDir(id), `container ${id}`, async () => {
      this.stillThere(id);
      return fn();
    });
  }

  /** The run directory is gone after a reboot (it is on tmpfs); the container is not. */
  private ensureRunDir(id: string): void {
    if (!existsSync(this.dir(id))) throw new NotFoundError(`no such container: ${id}`);
    mkdirSync(this.runDir(id), { recursive: true, mode: 0o700 });
  }

  /** Removed while we waited for the lock. */
  private stillThere(id: string): void {
    if (existsSync(this.dir(id))) return;
    rmSync(this.runDir(id), { recursive: true, force: true });
    throw new NotFoundError(`no such container: ${id}`);
  }

  /** Removes what is left of the container's directories; its root must be unmounted. */
  remove(id: string): void {
    const merged = join(this.dir(id), 'merged');
    if (isMountPoint(merged)) throw new UserError(`remove ${this.dir(id)}: ${merged} is still mounted`, { kind: 'conflict' });
    /* renamed away first: the container is gone at once and whole for whoever looks (a
     * `run --rm` waiting for it), and a removal killed halfway leaves only a hidden directory
     * that the next removal sweeps */
    const trash = join(this.containers, `.removing-${id}`);
    try {
      renameSync(this.dir(id), trash);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw new UserError(`remove ${this.dir(id)}: ${reason(err)}`);
    }
    rmSync(this.runDir(id), { recursive: true, force: true });
    for (const name of readdirSync(this.containers)) {
      if (name.startsWith('.removing-') && !isMountPoint(join(this.containers, name, 'merged')))
        rmSync(join(this.containers, name), { recursive: true, force: true });
    }
  }
}
