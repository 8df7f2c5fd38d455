import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { UserError } from '../lib/errors.js';
import { formatReference, parseReference } from '../oci/image/reference.js';
import type { ImageConfig } from '../oci/image/types.js';
import { familiarName, findImage } from './images/names.js';
import { type PullOptions, type PullResult, pull } from './images/pull.js';
import { removeCredentials, saveCredentials, storedCredentials } from './registry/auth-file.js';
import { type Credentials, RegistryClient, type RegistryOptions } from './registry/client.js';
import { type PushOptions, type PushResult, push } from './images/push.js';
import { type LoadResult, load } from './images/load.js';
import { type ArchiveFormat, save } from './images/save.js';
import { type HistoryEntry, history } from './images/history.js';
import { type PruneResult, prune } from './images/prune.js';
import { type ImportOptions, importImage } from './images/import.js';
import type { ImageRecord } from './store/image-index.js';
import { ImageStore } from './store/store.js';
import { type OverlayDirs, mountOverlay, unmountOverlay } from './snapshots/overlay.js';
import { Containers } from './containers/containers.js';
import type { EventJournal } from './events/journal.js';
import { volumesOf } from './containers/mounts.js';
import { Volumes } from './volumes/volumes.js';
import { type ResetReport, resetStore } from './system-reset.js';
import type { ContainerRecord } from './containers/record.js';
import type { NetworkConfig } from './network/config.js';
import type { CreateNetworkOptions } from './network/store.js';

export type { LayerEvent, PullOptions, PullResult } from './images/pull.js';
export type { PushEvent, PushOptions, PushResult } from './images/push.js';
export type { LoadResult } from './images/load.js';
export type { ArchiveFormat } from './images/save.js';
export type { HistoryEntry } from './images/history.js';
export type { PruneResult } from './images/prune.js';
export type { ImportOptions } from './images/import.js';
export type { ImageRecord } from './store/image-index.js';
export type { Credentials, RegistryOptions } from './registry/client.js';
export type { OverlayDirs } from './snapshots/overlay.js';
export type { VolumePruneResult } from './volumes/volumes.js';
export type { VolumeInspect } from './volumes/record.js';
export type { ResetReport } from './system-reset.js';
export type { NetworkConfig } from './network/config.js';
export type { CreateNetworkOptions } from './network/store.js';

export interface EngineOptions {
  /** the store root, /var/lib/raind by default */
  root: string;
  /** where runtime state lives, /run/raind by default */
  runRoot?: string;
  /** the credentials file (containers-auth.json); without it, pulls are anonymous */
  authFile?: string;
  /** per-registry CAs, `<dir>/<host:port>/ca.crt`; docker's and podman's by default */
  certsDirs?: string[];
}

/** What `raind image inspect` shows, in docker's shape. */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created?: string;
  Author?: string;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  Config: ImageConfig['config'] | null;
  RootFS: { Type: string; Layers: string[] };
}

export interface RemoveResult {
  untagged: string[];
  deleted: string[];
}

/** The engine's one entry point for its callers (the raind CLI, later the API server). */
export class Engine {
  readonly images: ImageStore;

  private containerEngine?: Containers;
  private volumeEngine?: Volumes;

  constructor(readonly opts: EngineOptions) {
    this.images = new ImageStore(opts.root);
  }

  /** The containers of this store; made on first use. */
  get containers(): Containers {
    this.containerEngine ??= new Containers(this.images, {
      root: this.opts.root,
      runRoot: this.opts.runRoot ?? '/run/raind',
      volumes: this.volumes,
    });
    return this.containerEngine;
  }

  /** The volumes of this store; a volume is in use while a container, running or not, has it. */
  get volumes(): Volumes {
    this.volumeEngine ??= new Volumes(
      this.opts.root,
      () => this.containers.list().flatMap((c) => volumesOf(c).map((volume) => ({ volume, Id: c.Id, Name: c.Name }))),
      (action, name) => this.events.record('volume', action, name, { driver: 'local' }),
    );
    return this.volumeEngine;
  }

  /** The journal of events (`GET /events`): the containers' and this engine's. */
  get events(): EventJournal {
    return this.containers.events;
  }

  async pull(ref: string, opts: PullOptions = {}): Promise<PullResult> {
    const result = await pull(this.images, ref, this.registryOptions(parseReference(ref).domain, opts));
    this.events.record('image', 'pull', familiarName(formatReference(parseReference(ref))), {
      name: familiarName(formatReference(parseReference(ref))),
    });
    return result;
  }

  /** Checks the credentials against the registry, then keeps them in the credentials file. */
  async login(registry: string, credentials: Credentials, opts: RegistryOptions = {}): Promise<void> {
    const file = this.authFile('login');
    await new RegistryClient(registry, { ...this.registryOptions(registry, opts), credentials }).checkLogin();
    saveCredentials(file, registry, credentials);
  }

  /** Forgets the registry's credentials. */
  logout(registry: string): void {
    const file = this.authFile('logout');
    if (!removeCredentials(file, registry)) throw new UserError(`logout ${registry}: not logged in (${file})`, { kind: 'not-found' });
  }

  /** The caller's options, with the stored credentials for the registry unless given. */
  private registryOptions<T extends RegistryOptions>(domain: string, opts: T): T {
    const out = { ...opts };
    if (out.certsDirs === undefined && this.opts.certsDirs) out.certsDirs = this.opts.certsDirs;
    if (out.credentials === undefined && this.opts.authFile) {
      const stored = storedCredentials(this.opts.authFile, domain);
      if (stored) out.credentials = stored;
    }
    return out;
  }

  private authFile(what: string): string {
    if (!this.opts.authFile) throw new UserError(`${what}: no credentials file`, { kind: 'invalid' });
    return this.opts.authFile;
  }

  async push(ref: string, opts: PushOptions = {}): Promise<PushResult> {
    const result = await push(this.images, ref, this.registryOptions(parseReference(ref).domain, opts));
    this.events.record('image', 'push', familiarName(formatReference(parseReference(ref))), {
      name: familiarName(formatReference(parseReference(ref))),
    });
    return result;
  }

  saveImages(refs: string[], format: ArchiveFormat, dest: Writable): Promise<void> {
    return save(this.images, refs, format, dest);
  }

  async loadImages(source: Readable): Promise<LoadResult> {
    const result = await load(this.images, source);
    this.events.record('image', 'load', '', {});
    return result;
  }

  imageHistory(ref: string): HistoryEntry[] {
    return history(this.images, ref);
  }

  /** The dangling images no container uses; with `all`, every image no container uses. */
  pruneImages(all = false): Promise<PruneResult> {
    return prune(this.images, () => new Set(this.containers.list().map((c) => c.Image)), all);
  }

  /** Makes an image of a root filesystem tar; returns its id. */
  async importImage(input: Readable, opts: ImportOptions = {}): Promise<string> {
    const id = await importImage(this.images, input, opts);
    this.events.record('image', 'import', id, {});
    return id;
  }

  /** Mounts the image's layers as overlayfs on `<dir>/merged`, with `<dir>/diff` as the
   * upper and `<dir>/work` as the work directory (made if missing). */
  async mountImage(text: string, dir: string): Promise<OverlayDirs> {
    return this.images.locked(async () => {
      const { image } = findImage(this.images.images(), text);
      return mountOverlay(this.images.paths, image.layers, dir, `mount image ${text}`);
    });
  }

  /** Unmounts `<dir>/merged` and removes `diff/`, `work/` and `merged/`. */
  unmountImage(dir: string): void {
    unmountOverlay(dir, `unmount ${dir}`);
  }

  /** system reset: every container, image, layer and volume of this store gone, nothing
   * of it left mounted; --root and --runroot stay, empty. */
  reset(): Promise<ResetReport> {
    return resetStore(this.containers, this.images, this.opts.root, this.opts.runRoot ?? '/run/raind');
  }

  listImages(): ImageRecord[] {
    return this.images.images();
  }

  inspectImage(text: string): ImageInspect {
    const { image } = findImage(this.images.images(), text);
    const config = JSON.parse(readFileSync(this.images.blobs.path(image.id), 'utf8')) as ImageConfig;
    return {
      Id: image.id,
      RepoTags: image.repoTags.map(familiarName),
      RepoDigests: image.repoDigests.map(familiarName),
      Created: config.created,
      ...(config.author ? { Author: config.author } : {}),
      Architecture: config.architecture,
      ...(config.variant ? { Variant: config.variant } : {}),
      Os: config.os,
      Size: image.size,
      Config: config.config ?? null,
      RootFS: { Type: config.rootfs.type, Layers: config.rootfs.diff_ids },
    };
  }

  createNetwork(opts: CreateNetworkOptions): NetworkConfig {
    const network = this.containers.networks.create(opts);
    this.events.record('network', 'create', network.id, { name: network.name, type: network.driver });
    return network;
  }

  listNetworks(): NetworkConfig[] {
    return this.containers.networks.list();
  }

  /** The network, and the containers on it. */
  inspectNetwork(text: string): { network: NetworkConfig; containers: ContainerRecord[] } {
    const network = this.containers.networks.get(text);
    return { network, containers: this.networkUsers(network) };
  }

  /** A network a container is on (running or not) is refused, naming the containers. */
  removeNetwork(text: string): NetworkConfig {
    const network = this.containers.networks.remove(text, (n) => this.networkUsers(n).map((c) => c.Name));
    this.events.record('network', 'destroy', network.id, { name: network.name, type: network.driver });
    return network;
  }

  /** The user networks no container is on; their names. */
  pruneNetworks(): string[] {
    const removed: string[] = [];
    for (const n of this.listNetworks().slice(1)) {
      try {
        this.removeNetwork(n.name);
        removed.push(n.name);
      } catch (err) {
        if (!(err instanceof UserError) || err.kind !== 'conflict') throw err;
      }
    }
    return removed;
  }

  private networkUsers(network: NetworkConfig): ContainerRecord[] {
    return this.containers.list().filter((c) => {
      try {
        if (Object.values(c.ConnectedNetworks ?? {}).some((e) => e.NetworkID === network.id)) return true;
        /* its NetworkMode's, even disconnected: its next start needs the network */
        return this.containers.networkOf(c.HostConfig.NetworkMode)?.id === network.id;
      } catch {
        return false;
      }
    });
  }

  /** Gives the image `source` names the name `target` too (moving it from another image). */
  async tagImage(source: string, target: string): Promise<void> {
    const ref = parseReference(target);
    if (ref.digest !== undefined) throw new UserError(`tag ${target}: a tag cannot hold a digest`, { kind: 'invalid' });
    const name = formatReference(ref);
    await this.images.locked(async () => {
      const images = this.images.images();
      const { image } = findImage(images, source);
      for (const other of images) other.repoTags = other.repoTags.filter((t) => t !== name);
      image.repoTags.push(name);
      this.images.index.write(images);
      this.events.record('image', 'tag', image.id, { name: familiarName(name) });
    });
  }

  /** Removes a name, and the image once no name is left; by id, the image and all its names
   * (several names need force, as docker). Blobs and layers no image uses go with it. An
   * image a container uses stays: its last name goes only with force. */
  async removeImage(text: string, force = false): Promise<RemoveResult> {
    return this.images.locked(async () => {
      const images = this.images.images();
      const { image, tag } = findImage(images, text);
      const out: RemoveResult = { untagged: [], deleted: [] };
      if (tag !== undefined && image.repoTags.length > 1) {
        image.repoTags = image.repoTags.filter((t) => t !== tag);
        out.untagged.push(familiarName(tag));
      } else {
        if (tag === undefined && image.repoTags.length > 1 && !force) {
          throw new UserError(
            `image ${image.id.slice(7, 19)} has several names (${image.repoTags.map(familiarName).join(', ')}): remove them by name, or force`,
            {
              kind: 'conflict',
            },
          );
        }
        const user = this.containers.list().find((c) => c.Image === image.id);
        if (user && force && tag !== undefined) {
          /* docker's rmi -f of an image's last name while a container uses it: the name
           * goes, the image stays (dangling) for the container */
          image.repoTags = image.repoTags.filter((t) => t !== tag);
          out.untagged.push(familiarName(tag));
          this.images.index.write(images);
          return out;
        }
        if (user)
          throw new UserError(`image ${text} is in use by container ${user.Name} (${user.Id}): remove the container first`, {
            kind: 'conflict',
          });
        out.untagged.push(...image.repoTags.map(familiarName), ...image.repoDigests.map(familiarName));
        images.splice(images.indexOf(image), 1);
        out.deleted.push(image.id);
      }
      this.images.index.write(images);
      this.images.collectGarbage(images);
      for (const name of out.untagged) this.events.record('image', 'untag', image.id, { name });
      for (const id of out.deleted) this.events.record('image', 'delete', id, { name: text });
      return out;
    });
  }
}
