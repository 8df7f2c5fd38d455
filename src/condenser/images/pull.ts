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
import { RegistryClient, type RegistryOptions } from '../registry/client.js';
import type { ImageRecord } from '../store/image-index.js';
import type { ImageStore } from '../store/store.js';

export interface PullOptions extends RegistryOptions {
  platform?: PlatformSpec;
  /** one line per step, for the user */
  progress?: (line: string) => void;
}

export interface PullResult {
  image: ImageRecord;
  /** blobs fetched from the registry (not counting manifests) */
  downloaded: number;
}

/** Pulls an image into the store: manifest (through an index, for the platform), config and
 * layers, each blob verified as it streams in, each layer unpacked once; then names it.
 * Runs under the store's lock; on failure whatever it stored that no image refers to is
 * removed, so the store is as it was. */
export async function pull(store: ImageStore, text: string, opts: PullOptions = {}): Promise<PullResult> {
  const ref = parseReference(text);
  const name = formatReference(ref);
  return store.locked(async () => {
    try {
      return await pullLocked(store, ref, opts);
    } catch (err) {
      store.collectGarbage(store.images());
      throw err instanceof UserError ? new UserError(`pull ${name}: ${err.message}`, { kind: err.kind, cause: err }) : err;
    }
  });
}

async function pullLocked(store: ImageStore, ref: Reference, opts: PullOptions): Promise<PullResult> {
  const say = opts.progress ?? (() => {});
  const platform = opts.platform ?? hostPlatform();
  const client = new RegistryClient(ref.domain, opts);
  const top = await client.getManifest(ref.path, ref.digest ?? (ref.tag as string));
  await store.blobs.writeBytes(top.bytes, top.digest, `manifest ${top.digest}`);
  const blobs = [top.digest];
  let manifestDigest = top.digest;
  let manifest: ImageManifest;
  if (isIndexType(top.mediaType)) {
    const index = JSON.parse(top.bytes.toString('utf8')) as ImageIndex;
    if (!Array.isArray(index.manifests)) throw new UserError(`index ${top.digest}: no "manifests" list`, { kind: 'invalid' });
    const chosen = selectManifest(index.manifests, platform, `index ${top.digest}`);
    const child = await client.getManifest(ref.path, chosen.digest);
    if (isIndexType(child.mediaType))
      throw new UserError(`index ${top.digest}: nested index ${chosen.digest} is not supported`, { kind: 'invalid' });
    await store.blobs.writeBytes(child.bytes, child.digest, `manifest ${child.digest}`);
    blobs.push(child.digest);
    manifestDigest = child.digest;
    manifest = JSON.parse(child.bytes.toString('utf8')) as ImageManifest;
  } else {
    manifest = JSON.parse(top.bytes.toString('utf8')) as ImageManifest;
  }
  checkManifest(manifest, manifestDigest);

  let downloaded = 0;
  const fetchBlob = async (d: Descriptor, what: string) => {
    if (store.blobs.has(d.digest)) {
      say(`${what} ${d.digest}: already exists`);
      return;
    }
    await store.blobs.write(await client.getBlob(ref.path, d.digest), d.digest, d.size, `${what} ${d.digest}`);
    downloaded++;
    say(`${what} ${d.digest}: downloaded`);
  };

  await fetchBlob(manifest.config, 'config');
  blobs.push(manifest.config.digest);
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
  for (const [i, layer] of manifest.layers.entries()) {
    /* one chain ID and one diff ID per layer: checked against the config above */
    const chain = chains[i]!;
    const diffId = diffIds[i]!;
    const compression = layerCompression(layer.mediaType);
    if (compression === undefined)
      throw new UserError(`layer ${layer.digest}: unsupported media type "${layer.mediaType}"`, { kind: 'invalid' });
    if (store.layers.has(chain)) {
      say(`layer ${layer.digest}: already exists`);
      /* the blob is kept with the layer: a later push or save needs it */
      if (!store.blobs.has(layer.digest)) await fetchBlob(layer, 'layer');
    } else {
      await fetchBlob(layer, 'layer');
      await store.layers.ensure(chain, layer.digest, layer.mediaType, compression, diffId, `layer ${layer.digest}`);
    }
    blobs.push(layer.digest);
  }

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
