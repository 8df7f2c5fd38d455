import { readFileSync } from 'node:fs';
import { UserError } from '../../lib/errors.js';
import { chainIds } from '../../oci/image/chain-id.js';
import { isDigest, parseDigest } from '../../oci/image/digest.js';
import { type PlatformSpec, formatPlatform, hostPlatform, selectManifest } from '../../oci/image/platform.js';
import { type Reference, formatReference, parseReference, repositoryName } from '../../oci/image/reference.js';
import {
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  isIndexType,
  layerCompression,
} from '../../oci/image/types.js';
import { type FetchedManifest, RegistryClient, type RegistryOptions } from '../registry/client.js';
import type { ImageRecord } from '../store/image-index.js';
import type { LayerSource } from '../store/layers.js';
import type { ImageStore } from '../store/store.js';
import { ensureBlob, layerLock } from './pull-blob.js';
import type { LayerEvent } from './pull-events.js';
import { type Stored, pullLayer } from './pull-layer.js';

export interface PullOptions extends RegistryOptions {
  platform?: PlatformSpec;
  /** one line per step that is not a layer's, for the user */
  progress?: (line: string) => void;
  /** each layer's state, as docker reports it */
  layerProgress?: (event: LayerEvent) => void;
  /** layers downloaded at once (3 by default, as docker) */
  maxConcurrentDownloads?: number;
}

export type { LayerEvent, LayerStatus } from './pull-events.js';

export interface PullResult {
  image: ImageRecord;
  /** blobs fetched from the registry (not counting manifests) */
  downloaded: number;
}

interface Resolved {
  top: FetchedManifest;
  manifests: FetchedManifest[];
  manifest: ImageManifest;
  manifestDigest: string;
}

/** Pulls an image into the store: manifest (through an index, for the platform), config and
 * layers, each blob verified as it streams in and unpacked as it arrives, each layer once;
 * then names it. Layers are fetched, several at once, outside the store's lock, each
 * under a lock of its own (a second pull of the same blob waits for it, then finds it
 * there); only the commit to the index takes the store's lock. On failure whatever this pull
 * stored that no image refers to is removed, so the store is as it was. */
export async function pull(store: ImageStore, text: string, opts: PullOptions = {}): Promise<PullResult> {
  const ref = parseReference(text);
  const name = formatReference(ref);
  const mine = { blobs: new Set<string>(), layers: new Set<string>() };
  try {
    const client = new RegistryClient(ref.domain, opts);
    const resolved = await resolve(client, ref, opts);
    const fetched = await fetchAll(store, client, ref, resolved, opts, mine);
    return await store.locked(() => commit(store, client, ref, resolved, fetched, opts, mine));
  } catch (err) {
    await store.locked(async () => store.collectGarbage(store.images(), mine));
    throw err instanceof UserError ? new UserError(`pull ${name}: ${err.message}`, { kind: err.kind, cause: err }) : err;
  }
}

async function resolve(client: RegistryClient, ref: Reference, opts: PullOptions): Promise<Resolved> {
  const platform = opts.platform ?? hostPlatform();
  const top = await client.getManifest(ref.path, ref.digest ?? (ref.tag as string));
  if (!isIndexType(top.mediaType)) {
    const manifest = JSON.parse(top.bytes.toString('utf8')) as ImageManifest;
    checkManifest(manifest, top.digest);
    return { top, manifests: [top], manifest, manifestDigest: top.digest };
  }
  const index = JSON.parse(top.bytes.toString('utf8')) as ImageIndex;
  if (!Array.isArray(index.manifests)) throw new UserError(`index ${top.digest}: no "manifests" list`, { kind: 'invalid' });
  const chosen = selectManifest(index.manifests, platform, `index ${top.digest}`);
  const child = await client.getManifest(ref.path, chosen.digest);
  if (isIndexType(child.mediaType))
    throw new UserError(`index ${top.digest}: nested index ${chosen.digest} is not supported`, { kind: 'invalid' });
  const manifest = JSON.parse(child.bytes.toString('utf8')) as ImageManifest;
  checkManifest(manifest, child.digest);
  return { top, manifests: [top, child], manifest, manifestDigest: child.digest };
}

interface Fetched {
  config: ImageConfig;
  chains: string[];
  downloaded: number;
}

/** Config first (its diff IDs give the layers' chain IDs, and check them), then the layers,
 * up to N at once, each unpacked as it downloads (pull-layer.ts): no layer waits for
 * another, as each unpacks into a directory of its own. */
async function fetchAll(
  store: ImageStore,
  client: RegistryClient,
  ref: Reference,
  { manifest }: Resolved,
  opts: PullOptions,
  mine: { blobs: Set<string>; layers: Set<string> },
): Promise<Fetched> {
  const say = opts.progress ?? (() => {});
  const tell = opts.layerProgress ?? (() => {});
  const platform = opts.platform ?? hostPlatform();
  let downloaded = 0;
  const stored: Stored = {
    blob: (digest) => {
      mine.blobs.add(digest);
      downloaded++;
    },
    layer: (chain) => mine.layers.add(chain),
  };

  if (await ensureBlob(store, client, ref, manifest.config, 'config')) stored.blob(manifest.config.digest);
  const config = readConfig(store.blobs.path(manifest.config.digest), manifest.config.digest);
  if (config.os !== platform.os || config.architecture !== platform.architecture) {
    say(`warning: the image's platform ${formatPlatform(config)} does not match ${formatPlatform(platform)}`);
  }
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new UserError(`config ${manifest.config.digest}: ${diffIds.length} diff IDs for ${manifest.layers.length} layers`, {
      kind: 'invalid',
    });
  }
  const chains = chainIds(diffIds);
  const sources: LayerSource[] = manifest.layers.map((layer, i) => {
    const compression = layerCompression(layer.mediaType);
    if (compression === undefined)
      throw new UserError(`layer ${layer.digest}: unsupported media type "${layer.mediaType}"`, { kind: 'invalid' });
    return { chainId: chains[i]!, mediaType: layer.mediaType, compression, diffId: diffIds[i]!, what: `layer ${layer.digest}` };
  });

  /* which layers need their blob: a layer unpacked already needs none, unless the blob is
   * gone (it is kept with the layer: a later push or save needs it) */
  const need = manifest.layers.map((l, i) => !store.blobs.has(l.digest) || !store.layers.has(chains[i]!));
  for (const [i, l] of manifest.layers.entries()) tell({ digest: l.digest, status: need[i] ? 'Pulling fs layer' : 'Already exists' });
  for (const [i, l] of manifest.layers.entries()) if (need[i]) tell({ digest: l.digest, status: 'Waiting' });

  const todo = manifest.layers.flatMap((_, i) => (need[i] ? [i] : []));
  const limit = Math.max(1, opts.maxConcurrentDownloads ?? 3);
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    for (let i = todo.shift(); i !== undefined && !failure; i = todo.shift()) {
      const layer = manifest.layers[i]!;
      try {
        await pullLayer(store, client, ref, layer, sources[i]!, tell, stored);
        tell({ digest: layer.digest, status: 'Pull complete' });
      } catch (err) {
        /* the first failure is the one reported; the other workers stop before their next
         * layer, so none writes any more once this returns */
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, todo.length) }, worker));
  if (failure) throw failure.err;
  return { config, chains, downloaded };
}

/** Under the store's lock: whatever a concurrent command's collector removed meanwhile is
 * fetched again, then the image and its names are written to the index. */
async function commit(
  store: ImageStore,
  client: RegistryClient,
  ref: Reference,
  { top, manifests, manifest, manifestDigest }: Resolved,
  { config, chains, downloaded }: Fetched,
  opts: PullOptions,
  mine: { blobs: Set<string>; layers: Set<string> },
): Promise<PullResult> {
  const say = opts.progress ?? (() => {});
  for (const m of manifests) await store.blobs.writeBytes(m.bytes, m.digest, `manifest ${m.digest}`);
  for (const d of [manifest.config, ...manifest.layers])
    if (await ensureBlob(store, client, ref, d, `${d === manifest.config ? 'config' : 'layer'} ${d.digest}`)) mine.blobs.add(d.digest);
  for (const [i, layer] of manifest.layers.entries()) {
    const chain = chains[i]!;
    if (store.layers.has(chain)) continue;
    const compression = layerCompression(layer.mediaType)!; /* checked when fetched */
    /* another pull may be unpacking it outside the store's lock: wait for it */
    const release = await store.locks.acquire(layerLock(chain));
    try {
      if (await store.layers.ensure(chain, layer.digest, layer.mediaType, compression, config.rootfs.diff_ids[i]!, `layer ${layer.digest}`))
        mine.layers.add(chain);
    } finally {
      release();
    }
  }
  const blobs = [...manifests.map((m) => m.digest), manifest.config.digest, ...manifest.layers.map((l) => l.digest)];

  const id = manifest.config.digest;
  const tag = ref.tag === undefined ? undefined : `${repositoryName(ref)}:${ref.tag}`;
  const repoDigest = `${repositoryName(ref)}@${top.digest}`;
  const images = store.images();
  let image = images.find((i) => i.id === id);
  if (!image) {
    image = {
      id,
      manifestDigest,
      repoDigests: [],
      repoTags: [],
      blobs: [],
      layers: chains,
      size: manifest.layers.reduce((n, l) => n + l.size, 0),
      created: config.created,
      stored: new Date().toISOString(),
    };
    images.push(image);
  }
  image.blobs = [...new Set([...image.blobs, ...blobs])];
  if (!image.repoDigests.includes(repoDigest)) image.repoDigests.push(repoDigest);
  if (tag !== undefined) {
    /* a tag names one image: it moves here from the one it named before */
    for (const other of images) other.repoTags = other.repoTags.filter((t) => t !== tag);
    image.repoTags.push(tag);
  }
  store.index.write(images);
  /* lock files no one holds are only litter */
  store.locks.prune();
  say(`digest: ${top.digest}`);
  return { image, downloaded };
}

function checkManifest(m: ImageManifest, digest: string): void {
  const bad = (why: string) => new UserError(`manifest ${digest}: ${why}`, { kind: 'invalid' });
  if (m.schemaVersion !== 2) throw bad(`schemaVersion ${m.schemaVersion} is not supported`);
  const checkDescriptor = (d: Descriptor | undefined, where: string) => {
    if (!d || typeof d !== 'object') throw bad(`${where}: missing`);
    if (typeof d.digest !== 'string' || !isDigest(d.digest)) parseDigest(String(d.digest), `${where}.digest`);
    if (!Number.isSafeInteger(d.size) || d.size < 0) throw bad(`${where}.size: not a size`);
  };
  checkDescriptor(m.config, 'config');
  if (!Array.isArray(m.layers)) throw bad('no "layers" list');
  for (const [i, l] of m.layers.entries()) checkDescriptor(l, `layers[${i}]`);
}

function readConfig(path: string, digest: string): ImageConfig {
  let c: ImageConfig;
  try {
    c = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`config ${digest}: not JSON: ${(err as Error).message}`, { kind: 'invalid' });
  }
  if (!c || typeof c.os !== 'string' || typeof c.architecture !== 'string')
    throw new UserError(`config ${digest}: no os or architecture`, { kind: 'invalid' });
  if (c.rootfs?.type !== 'layers' || !Array.isArray(c.rootfs.diff_ids))
    throw new UserError(`config ${digest}: rootfs is not a list of layers`, { kind: 'invalid' });
  for (const d of c.rootfs.diff_ids) parseDigest(d, `config ${digest}: diff ID`);
  return c;
}
