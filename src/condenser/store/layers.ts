import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { UserError } from '../../lib/errors.js';
import { parseDigest } from '../../oci/image/digest.js';
import type { Compression } from '../../oci/image/types.js';
import type { BlobStore } from './blobs.js';
import type { StorePaths } from './paths.js';
import { unpackLayer } from './unpack.js';
import { writeFailure } from './write-failure.js';

/** What unpacking a layer needs to know of it. */
export interface LayerSource {
  chainId: string;
  mediaType: string;
  compression: Compression;
  /** the digest of the uncompressed archive, from the image config */
  diffId: string;
  /** names the layer in errors */
  what: string;
}

/** Unpacked layers, one directory per chain ID. A layer is unpacked into tmp/ and renamed
 * into place only once whole and its diff ID checked, so a directory in layers/ is always
 * complete. Each layer stands alone (whiteouts are kept as overlay's marks, applied only
 * when overlayfs stacks the layers), so layers unpack in any order and at once. A pull,
 * which works outside the store's lock, calls these holding the layer's lock ("layer-<chain
 * hex>"): the temporary directory is the holder's alone. */
export class LayerStore {
  constructor(
    private readonly paths: StorePaths,
    private readonly blobs: BlobStore,
  ) {}

  has(chainId: string): boolean {
    return existsSync(this.paths.layer(chainId));
  }

  /** Unpacks the stored blob `blobDigest` as the layer `chainId`, unless it is there
   * already; true when it was unpacked now. */
  async ensure(
    chainId: string,
    blobDigest: string,
    mediaType: string,
    compression: Compression,
    diffId: string,
    what: string,
  ): Promise<boolean> {
    if (this.has(chainId)) return false;
    const layer = { chainId, mediaType, compression, diffId, what };
    const tmp = this.prepare(layer);
    try {
      this.publish(layer, tmp, await unpackLayer(this.blobs.open(blobDigest), compression, mediaType, tmp, what));
      return true;
    } catch (err) {
      throw this.discard(layer, tmp, err);
    }
  }

  /** Unpacks a blob while it downloads: `source` is its bytes as they arrive, `whole` the
   * download, true once the blob is verified and stored with every byte streamed, false when
   * the stream was cut off (a resumed transfer: then nothing is unpacked, and the caller
   * unpacks the stored blob with ensure). Nothing is renamed into place before the blob is
   * verified; a failed download is the error reported, before a failed unpack (a corrupt
   * blob also fails to decompress). */
  async unpackStream(layer: LayerSource, source: Readable, whole: Promise<boolean>): Promise<boolean> {
    let tmp: string;
    try {
      tmp = this.prepare(layer);
    } catch (err) {
      source.destroy();
      await whole.catch(() => {});
      throw writeFailure(err, layer.what, this.paths.tmp) ?? err;
    }
    const unpacking = unpackLayer(source, layer.compression, layer.mediaType, tmp, layer.what).then(
      (diffId) => ({ diffId }),
      (err: unknown) => ({ err }),
    );
    let streamed: boolean;
    try {
      streamed = await whole;
    } catch (err) {
      await unpacking;
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    const got = await unpacking;
    if (!streamed) {
      rmSync(tmp, { recursive: true, force: true });
      return false;
    }
    try {
      if ('err' in got) throw got.err;
      this.publish(layer, tmp, got.diffId);
      return true;
    } catch (err) {
      throw this.discard(layer, tmp, err);
    }
  }

  /** An empty tmp/layer-<chain hex>: named by the layer, so one unpack of it at a time (its
   * lock), and a collector can tell whether anyone still works on it; what a killed pull left
   * there is removed first. */
  private prepare(layer: LayerSource): string {
    mkdirSync(this.paths.layers, { recursive: true, mode: 0o700 });
    mkdirSync(this.paths.tmp, { recursive: true, mode: 0o700 });
    const tmp = join(this.paths.tmp, `layer-${parseDigest(layer.chainId, 'chain ID').hex}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, 0o755);
    return tmp;
  }

  private publish(layer: LayerSource, tmp: string, got: string): void {
    if (got !== layer.diffId)
      throw new UserError(
        `${layer.what}: diff ID mismatch: the uncompressed layer has digest ${got}, the image config gives ${layer.diffId}`,
      );
    renameSync(tmp, this.paths.layer(layer.chainId));
  }

  private discard(layer: LayerSource, tmp: string, err: unknown): unknown {
    rmSync(tmp, { recursive: true, force: true });
    return writeFailure(err, layer.what, tmp) ?? err;
  }
}
