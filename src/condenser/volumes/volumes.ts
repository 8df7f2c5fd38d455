import { readdirSync } from 'node:fs';
import { NotFoundError, UserError } from '../../lib/errors.js';
import { treeSize } from '../store/usage.js';
import { copyUp } from './copy-up.js';
import { ANONYMOUS_LABEL, anonymousVolumeName, validateVolumeName } from './names.js';
import { type VolumeInspect, type VolumeRecord, inspectView } from './record.js';
import { VolumeStore } from './store.js';

/** A container that uses a volume, running or not. */
export interface VolumeUser {
  volume: string;
  Id: string;
  Name: string;
}

/** What a container asks of a volume when it is launched. */
export interface VolumeRequest {
  name: string;
  /** the mount point in the container */
  target: string;
  /** made for this container alone (`-v /path`, an image's VOLUME) */
  anonymous: boolean;
  /** the container's root, mounted: copy-up reads the image's content there */
  rootfs: string;
  /** the container's first launch, without `nocopy`: an empty volume gets the image's content */
  copyUp: boolean;
}

export interface CreateVolumeOptions {
  labels?: Record<string, string>;
}

export interface VolumePruneResult {
  deleted: string[];
  reclaimed: number;
}

/** The engine's volumes: docker's `local` driver, directories under `<root>/volumes`. Which
 * containers use a volume is the caller's to say (`users`): a volume in use cannot go. */
export class Volumes {
  readonly store: VolumeStore;

  constructor(
    root: string,
    private readonly users: () => VolumeUser[],
    /** told of each volume made or removed (the event journal) */
    private readonly onEvent: (action: 'create' | 'destroy', name: string) => void = () => {},
  ) {
    this.store = new VolumeStore(root);
  }

  /** volume create: a name given that exists already is that volume, as docker's. */
  create(name: string | undefined, opts: CreateVolumeOptions = {}): VolumeInspect {
    const volumeName = name === undefined || name === '' ? anonymousVolumeName() : validateVolumeName(name);
    return this.store.locked(() => {
      if (!this.store.exists(volumeName)) {
        this.store.create(newRecord(volumeName, opts.labels ?? {}));
        this.onEvent('create', volumeName);
      }
      return this.view(this.store.read(volumeName));
    });
  }

  inspect(name: string): VolumeInspect {
    return this.view(this.store.read(name));
  }

  list(): VolumeInspect[] {
    return this.store.list().map((r) => this.view(r));
  }

  /** The containers using each volume. */
  usersByVolume(): Map<string, VolumeUser[]> {
    const out = new Map<string, VolumeUser[]>();
    for (const u of this.users()) out.set(u.volume, [...(out.get(u.volume) ?? []), u]);
    return out;
  }

  /** volume rm: refused while a container uses it; force: a missing volume is no error. */
  remove(name: string, force = false): void {
    this.store.locked(() => {
      if (!this.store.exists(name)) {
        if (force) return;
        throw new NotFoundError(`no such volume: ${name}`);
      }
      const user = this.usersByVolume().get(name)?.[0];
      if (user) throw new UserError(`volume ${name} is in use by container ${user.Name} (${user.Id})`, { kind: 'conflict', field: 'Name' });
      this.store.remove(name);
      this.onEvent('destroy', name);
    });
  }

  /** volume prune: the volumes no container uses; only anonymous ones unless `all`. */
  prune(all = false): VolumePruneResult {
    return this.store.locked(() => {
      const used = this.usersByVolume();
      const result: VolumePruneResult = { deleted: [], reclaimed: 0 };
      for (const v of this.store.list()) {
        if (used.has(v.Name) || (!all && !Object.hasOwn(v.Labels, ANONYMOUS_LABEL))) continue;
        const size = treeSize(this.store.dataDir(v.Name));
        this.store.remove(v.Name);
        this.onEvent('destroy', v.Name);
        result.deleted.push(v.Name);
        result.reclaimed += size;
      }
      return result;
    });
  }

  /** The host directory a container mounts for a volume: made if missing, and on the
   * container's first launch filled from the image when empty (docker's copy-up). */
  mountSource(req: VolumeRequest): { path: string; created: boolean } {
    validateVolumeName(req.name);
    return this.store.locked(() => {
      const created = !this.store.exists(req.name);
      if (created) {
        this.store.create(newRecord(req.name, req.anonymous ? { [ANONYMOUS_LABEL]: '' } : {}));
        this.onEvent('create', req.name);
      }
      const data = this.store.dataDir(req.name);
      if (req.copyUp && readdirSync(data).length === 0) copyUp(req.rootfs, req.target, data);
      return { path: data, created };
    });
  }

  /** Removes those of the volumes no container uses (rm -v, --rm, a failed create); the
   * others, and those already gone, stay as they are. */
  removeIfUnused(names: string[]): void {
    if (names.length === 0) return;
    this.store.locked(() => {
      const used = this.usersByVolume();
      for (const name of names)
        if (!used.has(name) && this.store.exists(name)) {
          this.store.remove(name);
          this.onEvent('destroy', name);
        }
    });
  }

  private view(record: VolumeRecord): VolumeInspect {
    return inspectView(record, this.store.dataDir(record.Name));
  }
}

function newRecord(name: string, labels: Record<string, string>): VolumeRecord {
  return { Name: name, Driver: 'local', CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), Labels: labels, Options: {} };
}
