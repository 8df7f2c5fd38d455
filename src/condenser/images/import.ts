import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, mkdirSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { UserError } from '../../lib/errors.js';
import { sha256Digest } from '../../oci/image/digest.js';
import { hostPlatform } from '../../oci/image/platform.js';
import { formatReference, parseReference } from '../../oci/image/reference.js';
import { type ImageConfig, type ImageManifest, type ImageRunConfig, MediaType } from '../../oci/image/types.js';
import type { ImageStore } from '../store/store.js';
import { applyChange } from './changes.js';
import { recordImage } from './record.js';

export interface ImportOptions {
  /** the name to give the image */
  reference?: string;
  /** Dockerfile instructions for the config (`--change`) */
  changes?: string[];
  /** where the tar came from, for the history's comment */
  source?: string;
  /** the history's comment instead (docker import --message) */
  message?: string;
}

/** Makes a one-layer image of a root filesystem tar (plain or gzip): the layer stored
 * gzip-compressed, its diff ID and digests computed as the bytes stream past, a config and
 * an OCI manifest written beside it, as a pull stores them. On failure the store is as it was. */
export async function importImage(store: ImageStore, input: Readable, opts: ImportOptions = {}): Promise<string> {
  const tag = opts.reference === undefined ? undefined : parseTag(opts.reference);
  const run: ImageRunConfig = {};
  for (const c of opts.changes ?? []) applyChange(run, c);
  return store.locked(async () => {
    const tmp = join(store.paths.tmp, `import-${randomBytes(8).toString('hex')}`);
    mkdirSync(tmp, { recursive: true, mode: 0o700 });
    try {
      const raw = join(tmp, 'input');
      await pipeline(input, createWriteStream(raw));
      const gz = join(tmp, 'layer.tar.gz');
      const diff = createHash('sha256');
      const blob = createHash('sha256');
      const tap = (h: ReturnType<typeof createHash>) =>
        new Transform({
          transform(chunk: Buffer, _enc, done) {
            h.update(chunk);
            done(null, chunk);
          },
        });
      const stages: NodeJS.ReadWriteStream[] = isGzip(raw) ? [createGunzip()] : [];
      await pipeline([createReadStream(raw), ...stages, tap(diff), createGzip(), tap(blob), createWriteStream(gz)]);
      const diffId = `sha256:${diff.digest('hex')}`;
      const layerDigest = `sha256:${blob.digest('hex')}`;
      const size = statSync(gz).size;
      await store.blobs.write(createReadStream(gz), layerDigest, size, 'layer');
      await store.layers.ensure(diffId, layerDigest, MediaType.ociLayerGzip, 'gzip', diffId, `layer ${layerDigest}`);

      const created = new Date().toISOString();
      const platform = hostPlatform();
      const config: ImageConfig = {
        created,
        architecture: platform.architecture,
        os: platform.os,
        config: run,
        rootfs: { type: 'layers', diff_ids: [diffId] },
        history: [{ created, created_by: 'raind import', comment: opts.message || `Imported from ${opts.source ?? '-'}` }],
      };
      const configBytes = Buffer.from(JSON.stringify(config));
      const id = sha256Digest(configBytes);
      await store.blobs.writeBytes(configBytes, id, 'config');
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: id, size: configBytes.length },
        layers: [{ mediaType: MediaType.ociLayerGzip, digest: layerDigest, size }],
      };
      const manifestBytes = Buffer.from(JSON.stringify(manifest));
      const manifestDigest = sha256Digest(manifestBytes);
      await store.blobs.writeBytes(manifestBytes, manifestDigest, 'manifest');

      const images = store.images();
      recordImage(
        images,
        { id, manifestDigest, blobs: [manifestDigest, id, layerDigest], layers: [diffId], size, created },
        tag === undefined ? [] : [tag],
      );
      store.index.write(images);
      return id;
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      store.collectGarbage(store.images());
      if (err instanceof UserError) throw new UserError(`import: ${err.message}`, { kind: err.kind, cause: err });
      throw new UserError(`import: ${(err as Error).message}`, { cause: err });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

function parseTag(text: string): string {
  const ref = parseReference(text);
  if (ref.digest !== undefined) throw new UserError(`import: ${text}: a name for an image cannot hold a digest`, { kind: 'invalid' });
  return formatReference(ref);
}

function isGzip(path: string): boolean {
  const head = Buffer.alloc(2);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 2, 0);
  } finally {
    closeSync(fd);
  }
  return head[0] === 0x1f && head[1] === 0x8b;
}
