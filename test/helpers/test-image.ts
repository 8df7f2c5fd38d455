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
  extra: { created?: string; marker?: string; architecture?: string; zstd?: boolean; docker?: boolean } = {},
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
  /* Docker schema 2 names each part with docker's media types */
  const types = extra.docker
    ? {
        manifest: DOCKER_MANIFEST,
        config: 'application/vnd.docker.container.image.v1+json',
        layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
      }
    : {
        manifest: 'application/vnd.oci.image.manifest.v1+json',
        config: 'application/vnd.oci.image.config.v1+json',
        layer: `application/vnd.oci.image.layer.v1.tar+${extra.zstd ? 'zstd' : 'gzip'}`,
      };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: types.manifest,
      config: { mediaType: types.config, digest: configDigest, size: config.length },
      layers: [{ mediaType: types.layer, digest: layerDigest, size: layer.length }],
    }),
  );
  const manifestDigest = await registry.pushManifest(repo, tag, types.manifest, manifest);
  if (manifestDigest !== sha(manifest)) throw new Error(`registry digest ${manifestDigest} != ${sha(manifest)}`);
  return { manifestDigest, configDigest, layerDigest, diffId, manifestSize: manifest.length };
}

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/** An OCI index (or with `docker`, a Docker manifest list of schema 2 manifests) of two
 * busybox images, linux/amd64 and linux/arm64/v8, at `repo:tag`. */
export async function pushIndex(
  registry: TestRegistry,
  repo: string,
  tag: string,
  docker = false,
): Promise<{ digest: string; amd64: PushedImage; arm64: PushedImage }> {
  const amd64 = await pushBusybox(registry, repo, 'amd64', { marker: 'amd64', docker });
  const arm64 = await pushBusybox(registry, repo, 'arm64', { marker: 'arm64', architecture: 'arm64', docker });
  const entry = (i: PushedImage, platform: object) => ({
    mediaType: docker ? DOCKER_MANIFEST : 'application/vnd.oci.image.manifest.v1+json',
    digest: i.manifestDigest,
    size: i.manifestSize,
    platform,
  });
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: docker ? DOCKER_LIST : 'application/vnd.oci.image.index.v1+json',
      manifests: [
        entry(arm64, { os: 'linux', architecture: 'arm64', variant: 'v8' }),
        entry(amd64, { os: 'linux', architecture: 'amd64' }),
      ],
    }),
  );
  const digest = await registry.pushManifest(repo, tag, docker ? DOCKER_LIST : 'application/vnd.oci.image.index.v1+json', index);
  return { digest, amd64, arm64 };
}
