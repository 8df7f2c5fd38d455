import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withLockAsync } from '../../lib/lock.js';
import { parseDigest } from '../../oci/image/digest.js';
import { BlobStore } from './blobs.js';
import { KeyedLocks } from './keyed-lock.js';
import { ImageIndex, type ImageRecord } from './image-index.js';
import { LayerStore } from './layers.js';
import { StorePaths } from './paths.js';
import { pruneLinks } from '../snapshots/overlay.js';

/** The image store under one root: blobs, unpacked layers and the image index. Every change
 * is made under the store's lock (flock on the root), so concurrent commands serialise. */
export class ImageStore {
  readonly paths: StorePaths;
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  readonly index: ImageIndex;
  /** per blob ("blob-<hex>") and per layer ("layer-<chain hex>"): pulls fetch and unpack
   * outside the store's lock, and each piece once */
  readonly locks: KeyedLocks;

  constructor(root: string) {
    this.paths = new StorePaths(root);
    this.blobs = new BlobStore(this.paths);
    this.layers = new LayerStore(this.paths, this.blobs);
    this.index = new ImageIndex(this.paths.index);
    this.locks = new KeyedLocks(this.paths.locks);
  }

  async locked<T>(fn: () => Promise<T>): Promise<T> {
    mkdirSync(this.paths.root, { recursive: true, mode: 0o700 });
    return withLockAsync(this.paths.root, `image store ${this.paths.root}`, fn);
  }

  images(): ImageRecord[] {
    return this.index.read();
  }

  /** Removes every blob and layer no image refers to (only those in `scope`, when given),
   * and what an interrupted command left in tmp/. Called under the lock; what a pull is
   * fetching or unpacking outside it (its piece's lock held) is left alone. */
  collectGarbage(
    images: readonly ImageRecord[],
    scope?: { blobs: ReadonlySet<string>; layers: ReadonlySet<string> },
  ): { blobs: number; layers: number } {
    const blobs = new Set(images.flatMap((i) => i.blobs.map((d) => parseDigest(d).hex)));
    const layers = new Set(images.flatMap((i) => i.layers.map((d) => parseDigest(d).hex)));
    const removed = { blobs: 0, layers: 0 };
    for (const name of list(this.paths.blobs)) {
      if (blobs.has(name) || (scope && !scope.blobs.has(`sha256:${name}`))) continue;
      rmSync(join(this.paths.blobs, name), { force: true });
      removed.blobs++;
    }
    for (const name of list(this.paths.layers)) {
      if (layers.has(name) || (scope && !scope.layers.has(`sha256:${name}`))) continue;
      rmSync(join(this.paths.layers, name), { recursive: true, force: true });
      removed.layers++;
    }
    for (const name of list(this.paths.tmp)) {
      if (this.locks.held(name.replace(/\.partial$/, ''))) continue;
      rmSync(join(this.paths.tmp, name), { recursive: true, force: true });
    }
    this.locks.prune();
    pruneLinks(this.paths);
    return removed;
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
