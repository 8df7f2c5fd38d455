import { readFileSync } from 'node:fs';
import { chainIds } from '../../oci/image/chain-id.js';
import type { ImageConfig } from '../../oci/image/types.js';
import type { ImageStore } from '../store/store.js';
import { treeSize } from '../store/usage.js';
import { findImage } from './names.js';

/** One step of an image's history, newest first, in docker's shape. */
export interface HistoryEntry {
  /** the image id on the newest step, "<missing>" on the others (docker's way) */
  Id: string;
  Created?: string;
  CreatedBy: string;
  /** the uncompressed bytes of the layer the step made; 0 for a step that made none */
  Size: number;
  Comment: string;
  Tags: string[];
}

/** The history in the image's config; where the config has none, one step per layer. A step
 * with `empty_layer` made no layer, every other one made the next layer in order. */
export function history(store: ImageStore, text: string): HistoryEntry[] {
  const { image } = findImage(store.images(), text);
  const config = JSON.parse(readFileSync(store.blobs.path(image.id), 'utf8')) as ImageConfig;
  const chains = chainIds(config.rootfs.diff_ids);
  const steps = config.history?.length ? config.history : chains.map(() => ({}) as NonNullable<ImageConfig['history']>[number]);
  let layer = 0;
  const out: HistoryEntry[] = steps.map((h) => {
    let size = 0;
    if (!h.empty_layer) {
      const chain = chains[layer++];
      if (chain !== undefined && store.layers.has(chain)) size = treeSize(store.paths.layer(chain));
    }
    return {
      Id: '<missing>',
      ...(h.created !== undefined ? { Created: h.created } : {}),
      CreatedBy: h.created_by ?? '',
      Size: size,
      Comment: h.comment ?? '',
      Tags: [],
    };
  });
  out.reverse();
  const top = out[0];
  if (top) {
    top.Id = image.id;
    top.Tags = image.repoTags;
  }
  return out;
}
