import { PassThrough } from 'node:stream';
import type { Reference } from '../../oci/image/reference.js';
import type { Descriptor } from '../../oci/image/types.js';
import type { RegistryClient } from '../registry/client.js';
import type { LayerSource } from '../store/layers.js';
import type { ImageStore } from '../store/store.js';
import { blobLock, fetchBlob, layerLock } from './pull-blob.js';
import type { LayerEvent } from './pull-events.js';

/** What pullLayer stored, for the pull to remove again if it fails. */
export interface Stored {
  blob(digest: string): void;
  layer(chainId: string): void;
}

/** One layer of a pull, in the store: its blob (kept for push and save) and its unpacked
 * directory. When both are missing the blob is unpacked as it downloads, holding the
 * blob's lock and then the layer's; when the download has to resume (a partial blob left by
 * a killed pull, a transfer that broke), the layer is unpacked from the stored blob after.
 * Another pull working on the same blob or layer is waited for, and its result used. */
export async function pullLayer(
  store: ImageStore,
  client: RegistryClient,
  ref: Reference,
  blob: Descriptor,
  layer: LayerSource,
  tell: (e: LayerEvent) => void,
  stored: Stored,
): Promise<void> {
  if (!store.blobs.has(blob.digest)) {
    const releaseBlob = await store.locks.acquire(blobLock(blob.digest));
    try {
      if (!store.blobs.has(blob.digest)) {
        const downloaded = () => {
          stored.blob(blob.digest);
          tell({ digest: blob.digest, status: 'Download complete' });
        };
        if (store.layers.has(layer.chainId)) {
          await fetchBlob(store, client, ref, blob, layer.what, tell);
          downloaded();
        } else {
          const releaseLayer = await store.locks.acquire(layerLock(layer.chainId));
          try {
            if (!store.layers.has(layer.chainId)) await streamLayer(store, client, ref, blob, layer, tell, stored, downloaded);
          } finally {
            releaseLayer();
          }
        }
      }
    } finally {
      releaseBlob();
    }
  }
  if (store.layers.has(layer.chainId)) return;
  /* the blob was there, or the stream was cut off */
  const releaseLayer = await store.locks.acquire(layerLock(layer.chainId));
  try {
    tell({ digest: blob.digest, status: 'Extracting' });
    if (await store.layers.ensure(layer.chainId, blob.digest, layer.mediaType, layer.compression, layer.diffId, layer.what))
      stored.layer(layer.chainId);
  } finally {
    releaseLayer();
  }
}

async function streamLayer(
  store: ImageStore,
  client: RegistryClient,
  ref: Reference,
  blob: Descriptor,
  layer: LayerSource,
  tell: (e: LayerEvent) => void,
  stored: Stored,
  downloaded: () => void,
): Promise<void> {
  const bytes = new PassThrough();
  const whole = fetchBlob(store, client, ref, blob, layer.what, tell, bytes).then((streamed) => {
    downloaded();
    /* what is left to unpack is what the stream still holds */
    if (streamed) tell({ digest: blob.digest, status: 'Extracting' });
    return streamed;
  });
  if (await store.layers.unpackStream(layer, bytes, whole)) stored.layer(layer.chainId);
}
