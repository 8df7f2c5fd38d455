import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { UserError } from '../../lib/errors.js';
import { parseDigest } from '../../oci/image/digest.js';
import { type ImageConfig, type ImageManifest, MediaType, layerCompression } from '../../oci/image/types.js';
import type { ImageRecord } from '../store/image-index.js';
import type { ImageStore } from '../store/store.js';
import { zstdDecompressor } from '../store/unpack.js';
import { familiarName, findImage } from './names.js';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

interface Selected {
  image: ImageRecord;
  /** the names to record: the one the user gave, or all the image's tags for an id */
  names: string[];
  manifestBytes: Buffer;
  manifest: ImageManifest & { mediaType?: string };
}

/** Writes images of the store as one tar archive to `dest`: docker's `docker save` layout
 * (manifest.json, the configs, each layer uncompressed as <diff ID>/layer.tar, repositories)
 * or an OCI image layout (oci-layout, index.json, blobs/sha256 with the blobs as stored).
 * Runs under the store's lock so no blob goes while it is read. */
export async function save(store: ImageStore, refs: string[], format: ArchiveFormat, dest: Writable): Promise<void> {
  await store.locked(async () => {
    const images = store.images();
    const selected: Selected[] = [];
    for (const text of refs) {
      const { image, tag } = findImage(images, text);
      const manifestBytes = readFileSync(store.blobs.path(image.manifestDigest));
      const found = selected.find((s) => s.image.id === image.id);
      const names = tag !== undefined ? [tag] : image.repoTags;
      if (found) found.names = [...new Set([...found.names, ...names])];
      else selected.push({ image, names: [...names], manifestBytes, manifest: JSON.parse(manifestBytes.toString('utf8')) });
    }
    const pack = tar.pack();
    const written = pipeline(pack, dest);
    const tmp = join(store.paths.tmp, `save-${randomBytes(8).toString('hex')}`);
    try {
      if (format === 'oci-archive') await writeOci(store, selected, pack);
      else await writeDocker(store, selected, pack, tmp);
      pack.finalize();
      await written;
    } catch (err) {
      pack.destroy();
      await written.catch(() => {});
      throw err;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

function entry(pack: tar.Pack, name: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ name, size: data.length, mode: 0o644, mtime: new Date(0) }, data, (err) => (err ? reject(err) : resolve()));
  });
}

async function fileEntry(pack: tar.Pack, name: string, source: Readable, size: number): Promise<void> {
  const sink = pack.entry({ name, size, mode: 0o644, mtime: new Date(0) });
  await pipeline(source, sink);
}

async function writeOci(store: ImageStore, selected: Selected[], pack: tar.Pack): Promise<void> {
  await entry(pack, 'oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  const done = new Set<string>();
  const blob = async (digest: string) => {
    if (done.has(digest)) return;
    done.add(digest);
    const path = store.blobs.path(digest);
    await fileEntry(pack, `blobs/sha256/${parseDigest(digest).hex}`, createReadStream(path), statSync(path).size);
  };
  const manifests: object[] = [];
  for (const s of selected) {
    await blob(s.image.manifestDigest);
    await blob(s.manifest.config.digest);
    for (const l of s.manifest.layers) await blob(l.digest);
    const descriptor = {
      mediaType: s.manifest.mediaType ?? MediaType.ociManifest,
      digest: s.image.manifestDigest,
      size: s.manifestBytes.length,
    };
    if (s.names.length === 0) manifests.push(descriptor);
    /* one descriptor per name, as podman: the full name in containerd's annotation, the
     * tag in the image-spec's */
    for (const name of s.names)
      manifests.push({
        ...descriptor,
        annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.slice(name.lastIndexOf(':') + 1) },
      });
  }
  await entry(pack, 'index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests })));
}

async function writeDocker(store: ImageStore, selected: Selected[], pack: tar.Pack, tmp: string): Promise<void> {
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  const done = new Set<string>();
  const manifest: object[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const s of selected) {
    const configHex = parseDigest(s.image.id).hex;
    const configBytes = readFileSync(store.blobs.path(s.image.id));
    const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    if (!done.has(s.image.id)) await entry(pack, `${configHex}.json`, configBytes);
    done.add(s.image.id);
    const layers: string[] = [];
    for (const [i, l] of s.manifest.layers.entries()) {
      const diffId = config.rootfs.diff_ids[i];
      if (diffId === undefined) throw new UserError(`image ${s.image.id}: fewer diff IDs than layers`, { kind: 'invalid' });
      const name = `${parseDigest(diffId).hex}/layer.tar`;
      layers.push(name);
      if (done.has(diffId)) continue;
      done.add(diffId);
      /* docker's archives hold layers uncompressed: decompress to a file first, for the size */
      const compression = layerCompression(l.mediaType);
      const what = `layer ${l.digest}`;
      if (compression === undefined) throw new UserError(`${what}: unsupported media type "${l.mediaType}"`, { kind: 'invalid' });
      const plain = join(tmp, parseDigest(diffId).hex);
      const stages: NodeJS.ReadWriteStream[] = [];
      if (compression === 'gzip') stages.push(createGunzip());
      else if (compression === 'zstd') stages.push(zstdDecompressor(l.mediaType, what));
      await pipeline([store.blobs.open(l.digest), ...stages, createWriteStream(plain)]);
      await fileEntry(pack, name, createReadStream(plain), statSync(plain).size);
      rmSync(plain);
    }
    const repoTags = s.names.map(familiarName);
    manifest.push({ Config: `${configHex}.json`, RepoTags: repoTags, Layers: layers });
    const top = config.rootfs.diff_ids.at(-1);
    for (const t of repoTags) {
      const colon = t.lastIndexOf(':');
      if (top === undefined) continue;
      const repo = t.slice(0, colon);
      repositories[repo] = { ...repositories[repo], [t.slice(colon + 1)]: parseDigest(top).hex };
    }
  }
  await entry(pack, 'manifest.json', Buffer.from(JSON.stringify(manifest)));
  await entry(pack, 'repositories', Buffer.from(JSON.stringify(repositories)));
}
