import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withLockAsync } from '../../lib/lock.js';
import { parseDigest } from '../../oci/image/digest.js';
import { BlobStore } from './blobs.js';
import { ImageIndex, type ImageRecord } from './image-index.js';
import { LayerStore } from './layers.js';
import { StorePaths } from './paths.js';

/** The image store under one root: blobs, unpacked layers and the image index. Every change
 * is made under the store's lock (flock on the root), so concurrent commands serialise. */
export class ImageStore {
  readonly paths: StorePaths;
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  readonly index: ImageIndex;

  constructor(root: string) {
    this.paths = new StorePaths(root);
    this.blobs = new BlobStore(this.paths);
    this.layers = new LayerStore(this.paths, this.blobs);
    this.index = new ImageIndex(this.paths.index);
  }

  async locked<T>(fn: () => Promise<T>): Promise<T> {
    mkdirSync(this.paths.root, { recursive: true, mode: 0o700 });
    return withLockAsync(this.paths.root, `image store ${this.paths.root}`, fn);
  }

  images(): ImageRecord[] {
    return this.index.read();
  }

  /** Removes every blob and layer no image refers to, and what an interrupted command left
   * in tmp/. Called under the lock: nothing is being written then. */
  collectGarbage(images: readonly ImageRecord[]): { blobs: number; layers: number } {
    const blobs = new Set(images.flatMap((i) => i.blobs.map((d) => parseDigest(d).hex)));
    const layers = new Set(images.flatMap((i) => i.layers.map((d) => parseDigest(d).hex)));
    const removed = { blobs: 0, layers: 0 };
    for (const name of list(this.paths.blobs)) {
      if (blobs.has(name)) continue;
      rmSync(join(this.paths.blobs, name), { force: true });
      removed.blobs++;
    }
    for (const name of list(this.paths.layers)) {
      if (layers.has(name)) continue;
      rmSync(join(this.paths.layers, name), { recursive: true, force: true });
      removed.layers++;
    }
    for (const name of list(this.paths.tmp)) rmSync(join(this.paths.tmp, name), { recursive: true, force: true });
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
