import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { UserError } from '../../lib/errors.js';
import { chainIds } from '../../oci/image/chain-id.js';
import { parseDigest, sha256Digest } from '../../oci/image/digest.js';
import { hostPlatform, selectManifest } from '../../oci/image/platform.js';
import { formatReference, parseReference } from '../../oci/image/reference.js';
import {
  type Compression,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  MediaType,
  isIndexType,
  layerCompression,
} from '../../oci/image/types.js';
import type { ImageRecord } from '../store/image-index.js';
import type { ImageStore } from '../store/store.js';
import { recordImage } from './record.js';

export interface LoadResult {
  /** what was loaded, one per image: its names, or none */
  images: { id: string; names: string[] }[];
}

/** Loads a `docker save` archive (manifest.json) or an OCI image layout archive (index.json)
 * into the store. The archive is unpacked into tmp/ first (the parts come in any order),
 * outside the store's lock (its tmp/ directory under a lock of its own, so no collector
 * takes it): a load fed by a save of the same store (`save | load` through raind serve)
 * reads on while the save holds the store. Then, under the store's lock, every blob is
 * verified by digest and every layer by its diff ID; on failure what was stored is
 * removed again. */
export async function load(store: ImageStore, source: Readable): Promise<LoadResult> {
  const name = `load-${randomBytes(8).toString('hex')}`;
  const tmp = join(store.paths.tmp, name);
  const release = await store.locks.acquire(name);
  try {
    try {
      await extract(source, tmp);
    } catch (err) {
      throw err instanceof UserError ? new UserError(`load: ${err.message}`, { kind: err.kind, cause: err }) : err;
    }
    return await store.locked(async () => {
      try {
        const images = store.images();
        const loaded = existsSync(join(tmp, 'manifest.json'))
          ? await loadDocker(store, images, tmp)
          : existsSync(join(tmp, 'index.json'))
            ? await loadOci(store, images, tmp)
            : undefined;
        if (!loaded)
          throw new UserError('the archive has neither manifest.json (docker-archive) nor index.json (oci-archive)', { kind: 'invalid' });
        store.index.write(images);
        return { images: loaded };
      } catch (err) {
        rmSync(tmp, { recursive: true, force: true });
        store.collectGarbage(store.images());
        throw err instanceof UserError ? new UserError(`load: ${err.message}`, { kind: err.kind, cause: err }) : err;
      }
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    release();
    /* lock files no one holds are only litter */
    store.locks.prune();
  }
}

/** Unpacks the regular files of the archive under `dir`; names leaving it are refused. */
async function extract(source: Readable, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ex = tar.extract();
  ex.on('entry', (header, stream, next) => {
    const name = normalize(header.name);
    if (name.startsWith('/') || name === '..' || name.startsWith('../')) {
      stream.resume();
      next(new UserError(`archive entry "${header.name}" leaves the archive`, { kind: 'invalid' }));
      return;
    }
    if (header.type !== 'file') {
      stream.resume();
      stream.on('end', () => next());
      return;
    }
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    pipeline(stream, createWriteStream(path)).then(() => next(), next);
  });
  try {
    await pipeline(source, ex);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`not a tar archive: ${(err as Error).message}`, { kind: 'invalid', cause: err });
  }
}

function readJson<T>(path: string, what: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new UserError(`${what}: ${(err as Error).message}`, { kind: 'invalid' });
  }
}

/** A file of the archive by a name the archive gives, kept inside the archive. */
function member(dir: string, name: unknown, what: string): string {
  const n = typeof name === 'string' ? normalize(name) : '';
  if (!n || n.startsWith('/') || n === '..' || n.startsWith('../') || !existsSync(join(dir, n)))
    throw new UserError(`${what}: "${String(name)}" is not in the archive`, { kind: 'invalid' });
  return join(dir, n);
}

async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** A layer file's compression, by its magic number (docker-archive names no media type). */
function sniff(path: string): Compression {
  const head = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

function checkConfig(c: ImageConfig, what: string): void {
  if (!c || typeof c.os !== 'string' || c.rootfs?.type !== 'layers' || !Array.isArray(c.rootfs.diff_ids))
    throw new UserError(`${what}: no os, or rootfs is not a list of layers`, { kind: 'invalid' });
  for (const d of c.rootfs.diff_ids) parseDigest(d, `${what}: diff ID`);
}

const LAYER_TYPE: Record<Compression, string> = { none: MediaType.ociLayer, gzip: MediaType.ociLayerGzip, zstd: MediaType.ociLayerZstd };

async function loadDocker(store: ImageStore, images: ImageRecord[], dir: string): Promise<LoadResult['images']> {
  const items = readJson<{ Config?: unknown; RepoTags?: unknown; Layers?: unknown }[]>(join(dir, 'manifest.json'), 'manifest.json');
  if (!Array.isArray(items)) throw new UserError('manifest.json: not a list', { kind: 'invalid' });
  const out: LoadResult['images'] = [];
  for (const item of items) {
    const configBytes = readFileSync(member(dir, item.Config, 'manifest.json Config'));
    const id = sha256Digest(configBytes);
    const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    checkConfig(config, `config ${id}`);
    const files = Array.isArray(item.Layers) ? (item.Layers as unknown[]) : [];
    const diffIds = config.rootfs.diff_ids;
    if (files.length !== diffIds.length)
      throw new UserError(`config ${id}: ${diffIds.length} diff IDs for ${files.length} layers`, { kind: 'invalid' });
    await store.blobs.writeBytes(configBytes, id, `config ${id}`);
    const chains = chainIds(diffIds);
    const layers: Descriptor[] = [];
    for (const [i, file] of files.entries()) {
      const path = member(dir, file, 'manifest.json Layers');
      const compression = sniff(path);
      const digest = await fileDigest(path);
      const size = statSync(path).size;
      const mediaType = LAYER_TYPE[compression];
      await store.blobs.write(createReadStream(path), digest, size, `layer ${file}`);
      await store.layers.ensure(chains[i]!, digest, mediaType, compression, diffIds[i]!, `layer ${file}`);
      layers.push({ mediaType, digest, size });
    }
    /* the archive has no manifest: one is made, as docker load does */
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: id, size: configBytes.length },
      layers,
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = sha256Digest(manifestBytes);
    await store.blobs.writeBytes(manifestBytes, manifestDigest, `manifest ${manifestDigest}`);
    const tags = (Array.isArray(item.RepoTags) ? (item.RepoTags as unknown[]) : []).map((t) => formatReference(parseReference(String(t))));
    recordImage(
      images,
      {
        id,
        manifestDigest,
        blobs: [manifestDigest, id, ...layers.map((l) => l.digest)],
        layers: chains,
        size: layers.reduce((n, l) => n + l.size, 0),
        ...(config.created !== undefined ? { created: config.created } : {}),
      },
      tags,
    );
    out.push({ id, names: tags });
  }
  return out;
}

async function loadOci(store: ImageStore, images: ImageRecord[], dir: string): Promise<LoadResult['images']> {
  const index = readJson<ImageIndex>(join(dir, 'index.json'), 'index.json');
  if (!Array.isArray(index.manifests)) throw new UserError('index.json: no "manifests" list', { kind: 'invalid' });
  const blob = async (d: Descriptor, what: string): Promise<string> => {
    const path = member(dir, `blobs/sha256/${parseDigest(d.digest).hex}`, what);
    await store.blobs.write(createReadStream(path), d.digest, d.size, `${what} ${d.digest}`);
    return store.blobs.path(d.digest);
  };
  const out: LoadResult['images'] = [];
  for (const top of index.manifests) {
    const held: string[] = [];
    let desc = top;
    if (isIndexType(desc.mediaType)) {
      const nested = readJson<ImageIndex>(await blob(desc, 'index'), `index ${desc.digest}`);
      held.push(desc.digest);
      desc = selectManifest(nested.manifests ?? [], hostPlatform(), `index ${desc.digest}`);
    }
    const manifest = readJson<ImageManifest>(await blob(desc, 'manifest'), `manifest ${desc.digest}`);
    if (!manifest.config || !Array.isArray(manifest.layers))
      throw new UserError(`manifest ${desc.digest}: no config or layers`, { kind: 'invalid' });
    const config = readJson<ImageConfig>(await blob(manifest.config, 'config'), `config ${manifest.config.digest}`);
    checkConfig(config, `config ${manifest.config.digest}`);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length)
      throw new UserError(`config ${manifest.config.digest}: ${diffIds.length} diff IDs for ${manifest.layers.length} layers`, {
        kind: 'invalid',
      });
    const chains = chainIds(diffIds);
    for (const [i, l] of manifest.layers.entries()) {
      const compression = layerCompression(l.mediaType);
      if (compression === undefined) throw new UserError(`layer ${l.digest}: unsupported media type "${l.mediaType}"`, { kind: 'invalid' });
      await blob(l, 'layer');
      await store.layers.ensure(chains[i]!, l.digest, l.mediaType, compression, diffIds[i]!, `layer ${l.digest}`);
    }
    const annotations = top.annotations ?? {};
    const name = annotations['io.containerd.image.name'] ?? annotations['org.opencontainers.image.ref.name'];
    /* a bare tag names no repository: the image is loaded without a name */
    const tags = name !== undefined && /[:/]/.test(name) ? [formatReference(parseReference(name))] : [];
    const id = manifest.config.digest;
    recordImage(
      images,
      {
        id,
        manifestDigest: desc.digest,
        blobs: [...held, desc.digest, id, ...manifest.layers.map((l) => l.digest)],
        layers: chains,
        size: manifest.layers.reduce((n, l) => n + l.size, 0),
        ...(config.created !== undefined ? { created: config.created } : {}),
      },
      tags,
    );
    const seen = out.find((o) => o.id === id);
    if (seen) seen.names.push(...tags);
    else out.push({ id, names: tags });
  }
  return out;
}
