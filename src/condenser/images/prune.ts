import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseDigest } from '../../oci/image/digest.js';
import type { ImageStore } from '../store/store.js';
import { treeSize } from '../store/usage.js';

export interface PruneResult {
  /** ids of the images removed */
  deleted: string[];
  /** blobs and unpacked layers removed, and the bytes they took */
  blobs: number;
  layers: number;
  reclaimed: number;
}

/** Removes the dangling images (those no tag names; with `all`, tagged ones too) that no
 * container uses (`inUse`: image ids) and then every blob and layer no image left uses,
 * measuring what goes before it goes. */
export async function prune(store: ImageStore, inUse: () => ReadonlySet<string> = () => new Set(), all = false): Promise<PruneResult> {
  return store.locked(async () => {
    const images = store.images();
    const used = inUse();
    const kept = images.filter((i) => (!all && i.repoTags.length > 0) || used.has(i.id));
    const deleted = images.filter((i) => !kept.includes(i)).map((i) => i.id);
    const blobs = new Set(kept.flatMap((i) => i.blobs.map((d) => parseDigest(d).hex)));
    const layers = new Set(kept.flatMap((i) => i.layers.map((d) => parseDigest(d).hex)));
    let reclaimed = 0;
    for (const name of list(store.paths.blobs)) if (!blobs.has(name)) reclaimed += statSync(join(store.paths.blobs, name)).size;
    for (const name of list(store.paths.layers)) if (!layers.has(name)) reclaimed += treeSize(join(store.paths.layers, name));
    if (deleted.length) store.index.write(kept);
    const removed = store.collectGarbage(kept);
    return { deleted, ...removed, reclaimed };
  });
}

function list(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
