import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { makeTar } from './layer-tar.js';
import type { TestRegistry } from './registry.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface PushedImage {
  manifestDigest: string;
  configDigest: string;
  layerDigest: string;
  diffId: string;
  manifestSize: number;
}

/** A busybox-static image: one gzip layer holding /bin/busybox and a few of its links,
 * an OCI config and manifest, pushed to `repo:tag` through the registry's API. */
export async function pushBusybox(
  registry: TestRegistry,
  repo: string,
  tag: string,
  extra: { created?: string; marker?: string; architecture?: string; zstd?: boolean } = {},
): Promise<PushedImage> {
  const tar = await makeTar([
    { name: 'bin/', type: 'directory' },
    { name: 'bin/busybox', content: readFileSync('/bin/busybox'), mode: 0o755 },
    { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
    { name: 'bin/ls', type: 'symlink', linkname: 'busybox' },
    { name: 'bin/echo', type: 'symlink', linkname: 'busybox' },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
    { name: 'etc/', type: 'directory' },
    { name: 'etc/hostname', content: 'test\n' },
    /* a layer of its own: the registry keeps one copy of equal blobs */
    ...(extra.marker === undefined ? [] : [{ name: 'etc/marker', content: extra.marker }]),
  ]);
  /* zstd from the zstd command: Node 20's zlib has none */
  const layer = extra.zstd ? execFileSync('zstd', ['-q', '-c'], { input: tar, maxBuffer: 64 << 20 }) : gzipSync(tar);
  const diffId = sha(tar);
  const config = Buffer.from(
    JSON.stringify({
      created: extra.created ?? '2024-01-02T03:04:05Z',
      architecture: extra.architecture ?? 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'], WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created_by: 'test' }],
    }),
  );
  const layerDigest = await registry.pushBlob(repo, layer);
  const configDigest = await registry.pushBlob(repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [
        { mediaType: `application/vnd.oci.image.layer.v1.tar+${extra.zstd ? 'zstd' : 'gzip'}`, digest: layerDigest, size: layer.length },
      ],
    }),
  );
  const manifestDigest = await registry.pushManifest(repo, tag, 'application/vnd.oci.image.manifest.v1+json', manifest);
  if (manifestDigest !== sha(manifest)) throw new Error(`registry digest ${manifestDigest} != ${sha(manifest)}`);
  return { manifestDigest, configDigest, layerDigest, diffId, manifestSize: manifest.length };
}

/** An OCI index of two busybox images, linux/amd64 and linux/arm64/v8, at `repo:tag`. */
export async function pushIndex(
  registry: TestRegistry,
  repo: string,
  tag: string,
): Promise<{ digest: string; amd64: PushedImage; arm64: PushedImage }> {
  const amd64 = await pushBusybox(registry, repo, 'amd64', { marker: 'amd64' });
  const arm64 = await pushBusybox(registry, repo, 'arm64', { marker: 'arm64', architecture: 'arm64' });
  const entry = (i: PushedImage, platform: object) => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: i.manifestDigest,
    size: i.manifestSize,
    platform,
  });
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        entry(arm64, { os: 'linux', architecture: 'arm64', variant: 'v8' }),
        entry(amd64, { os: 'linux', architecture: 'amd64' }),
      ],
    }),
  );
  const digest = await registry.pushManifest(repo, tag, 'application/vnd.oci.image.index.v1+json', index);
  return { digest, amd64, arm64 };
}
