import type { Writable } from 'node:stream';
import { UserError } from '../../lib/errors.js';
import { parseDigest } from '../../oci/image/digest.js';
import type { Reference } from '../../oci/image/reference.js';
import type { Descriptor } from '../../oci/image/types.js';
import type { RegistryClient } from '../registry/client.js';
import { RETRIES, backoffMs, delay } from '../registry/retry.js';
import { downloadBlob } from '../store/blob-download.js';
import type { ImageStore } from '../store/store.js';
import type { LayerEvent } from './pull-events.js';

/** Downloads one blob into the store (resuming a partial one, retrying transient failures),
 * reporting its progress; `sink`, when given, is fed the bytes as they arrive (see
 * downloadBlob: true when it got them all). Call it holding the blob's lock. */
export function fetchBlob(
  store: ImageStore,
  client: RegistryClient,
  ref: Reference,
  d: Descriptor,
  what: string,
  report?: (e: LayerEvent) => void,
  sink?: Writable,
): Promise<boolean> {
  let last = 0;
  return downloadBlob(store.paths, (offset) => client.getBlob(ref.path, d.digest, offset), d.digest, d.size, what, {
    sink,
    progress: (n) => {
      /* a report per 64 KiB at most: the renderer redraws on each */
      if (n - last < 65536 && n !== d.size) return;
      last = n;
      report?.({ digest: d.digest, status: 'Downloading', current: n, total: d.size });
    },
    retry: async (err, attempt) => {
      /* a stream that broke mid-way is not a UserError; a refused or busy registry was
       * already retried by the client */
      if (err instanceof UserError || attempt >= RETRIES) return false;
      report?.({ digest: d.digest, status: 'Retrying' });
      await delay(backoffMs(attempt));
      return true;
    },
  });
}

/** The blob in the store: downloaded under its own lock, unless there already or fetched
 * meanwhile by another pull. True when this call downloaded it. */
export async function ensureBlob(
  store: ImageStore,
  client: RegistryClient,
  ref: Reference,
  d: Descriptor,
  what: string,
  report?: (e: LayerEvent) => void,
): Promise<boolean> {
  if (store.blobs.has(d.digest)) return false;
  const release = await store.locks.acquire(blobLock(d.digest));
  try {
    if (store.blobs.has(d.digest)) return false;
    await fetchBlob(store, client, ref, d, what, report);
    return true;
  } finally {
    release();
  }
}

/** The keyed locks' names: a blob's download and a layer's unpack each have one. Whoever
 * needs both takes the blob's first. */
export const blobLock = (digest: string) => `blob-${parseDigest(digest).hex}`;
export const layerLock = (chainId: string) => `layer-${parseDigest(chainId).hex}`;
