import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageManifest } from '../../../oci/image/types.js';
import type { Engine } from '../../engine.js';
import { treeSize } from '../../store/usage.js';
import { sendJson } from '../http-io.js';
import type { Router } from '../router.js';
import { containerSummary } from '../views/container-summary.js';
import { imageSummary } from '../views/image-views.js';

/** GET /system/df: docker's disk usage: images (with the containers using each and the
 * bytes of layers they share with another image), containers (their writable layers),
 * volumes (their bytes and users), and no build cache. */
export function systemDfRoutes(router: Router): void {
  router.get('/system/df', (r) => sendJson(r.res, 200, diskUsage(r.engine)));
}

function diskUsage(engine: Engine): object {
  const containers = engine.containers.list();
  const images = engine.listImages();

  /* each layer blob's size, and how many images hold it */
  const layerSize = new Map<string, number>();
  const holders = new Map<string, number>();
  const layersOf = new Map<string, string[]>();
  for (const image of images) {
    const manifest = readManifest(engine, image.manifestDigest);
    const digests = manifest?.layers.map((l) => l.digest) ?? [];
    for (const l of manifest?.layers ?? []) layerSize.set(l.digest, l.size);
    for (const d of new Set(digests)) holders.set(d, (holders.get(d) ?? 0) + 1);
    layersOf.set(image.id, digests);
  }
  const imageViews = images.map((image) => {
    const shared = (layersOf.get(image.id) ?? []).filter((d) => (holders.get(d) ?? 0) > 1).reduce((n, d) => n + (layerSize.get(d) ?? 0), 0);
    const users = containers.filter((c) => c.Image === image.id).length;
    return imageSummary(image, engine.inspectImage(image.id), users, shared);
  });

  const sizeOfImage = new Map(images.map((i) => [i.id, i.size]));
  const containerViews = containers.map((c) => {
    const rw = treeSize(join(engine.containers.store.dir(c.Id), 'diff'));
    return { ...containerSummary(c), SizeRw: rw, SizeRootFs: rw + (sizeOfImage.get(c.Image) ?? 0) };
  });

  const users = engine.volumes.usersByVolume();
  const volumeViews = engine.volumes.list().map((v) => ({
    ...v,
    UsageData: { Size: treeSize(v.Mountpoint), RefCount: users.get(v.Name)?.length ?? 0 },
  }));

  return {
    LayersSize: [...layerSize.values()].reduce((n, s) => n + s, 0),
    Images: imageViews,
    Containers: containerViews,
    Volumes: volumeViews,
    BuildCache: [],
  };
}

function readManifest(engine: Engine, digest: string): ImageManifest | undefined {
  try {
    return JSON.parse(readFileSync(engine.images.blobs.path(digest), 'utf8')) as ImageManifest;
  } catch {
    return undefined;
  }
}
