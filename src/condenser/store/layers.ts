import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../lib/errors.js';
import { parseDigest } from '../../oci/image/digest.js';
import type { Compression } from '../../oci/image/types.js';
import type { BlobStore } from './blobs.js';
import type { StorePaths } from './paths.js';
import { unpackLayer } from './unpack.js';
import { writeFailure } from './write-failure.js';

/** Unpacked layers, one directory per chain ID. A layer is unpacked into tmp/ and renamed
 * into place only once whole and its diff ID checked, so a directory in layers/ is always
 * complete. */
export class LayerStore {
  constructor(
    private readonly paths: StorePaths,
    private readonly blobs: BlobStore,
  ) {}

  has(chainId: string): boolean {
    return existsSync(this.paths.layer(chainId));
  }

  /** Unpacks the blob (holding the layer's lock, "layer-<chain hex>") `blobDigest` as the layer `chainId`, unless it is there already;
   * true when it was unpacked now. */
  async ensure(
    chainId: string,
    blobDigest: string,
    mediaType: string,
    compression: Compression,
    diffId: string,
    what: string,
  ): Promise<boolean> {
    const final = this.paths.layer(chainId);
    if (existsSync(final)) return false;
    mkdirSync(this.paths.layers, { recursive: true, mode: 0o700 });
    mkdirSync(this.paths.tmp, { recursive: true, mode: 0o700 });
    /* named by the layer: one unpack of it at a time (its lock), and a collector can tell
     * whether anyone still works on it */
    const tmp = join(this.paths.tmp, `layer-${parseDigest(chainId, 'chain ID').hex}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, 0o755);
    try {
      const got = await unpackLayer(this.blobs.open(blobDigest), compression, mediaType, tmp, what);
      if (got !== diffId)
        throw new UserError(`${what}: diff ID mismatch: the uncompressed layer has digest ${got}, the image config gives ${diffId}`);
      renameSync(tmp, final);
      return true;
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw writeFailure(err, what, tmp) ?? err;
    }
  }
}
