import { readFileSync } from 'node:fs';
import { UserError } from '../../lib/errors.js';
import { formatReference, parseReference } from '../../oci/image/reference.js';
import { type Descriptor, type ImageManifest, MediaType } from '../../oci/image/types.js';
import { RegistryClient, type RegistryOptions } from '../registry/client.js';
import type { ImageStore } from '../store/store.js';
import { findImage } from './names.js';

export interface PushOptions extends RegistryOptions {
  /** one line per step, for the user */
  progress?: (line: string) => void;
  /** each layer's state, as docker reports it (the API's progress stream) */
  layerProgress?: (event: PushEvent) => void;
}

/** A layer of a push: being sent, sent, there already, or linked from another repository. */
export interface PushEvent {
  digest: string;
  status: 'Preparing' | 'Pushing' | 'Pushed' | 'Layer already exists' | 'Mounted';
  /** the repository it was mounted from */
  from?: string;
}

export interface PushResult {
  /** the digest of the manifest pushed */
  digest: string;
  /** blobs sent to the registry (the others it had) */
  uploaded: number;
}

/** Pushes an image of the store to the registry its name names: the config and layer blobs
 * the registry lacks (asked one by one with HEAD), then the manifest, byte for byte as
 * stored, so its digest is the one it had when pulled. Runs under the store's lock so the
 * blobs are not removed while they are read. */
export async function push(store: ImageStore, text: string, opts: PushOptions = {}): Promise<PushResult> {
  const ref = parseReference(text);
  const name = formatReference(ref);
  return store.locked(async () => {
    try {
      const say = opts.progress ?? (() => {});
      const tell = opts.layerProgress ?? (() => {});
      const { image } = findImage(store.images(), text);
      const bytes = readFileSync(store.blobs.path(image.manifestDigest));
      const manifest = JSON.parse(bytes.toString('utf8')) as ImageManifest & { mediaType?: string };
      const client = new RegistryClient(ref.domain, opts);
      /* a repository of the same registry the image came from: the registry can link its
       * blobs instead of receiving them again */
      const from = image.repoDigests
        .map((d) => d.slice(0, d.indexOf('@')))
        .find((name) => name.startsWith(`${ref.domain}/`) && name !== `${ref.domain}/${ref.path}`)
        ?.slice(ref.domain.length + 1);
      let uploaded = 0;
      const send = async (d: Descriptor, what: string) => {
        /* the config is no layer: docker reports layers only */
        const event = what === 'layer' ? tell : () => {};
        if (!store.blobs.has(d.digest)) throw new UserError(`${what} ${d.digest}: not in the store`, { kind: 'not-found' });
        if (await client.hasBlob(ref.path, d.digest)) {
          say(`${what} ${d.digest}: already exists`);
          event({ digest: d.digest, status: 'Layer already exists' });
          return;
        }
        event({ digest: d.digest, status: 'Pushing' });
        const how = await client.uploadBlob(ref.path, d.digest, d.size, () => store.blobs.open(d.digest), from);
        if (how === 'mounted') {
          say(`${what} ${d.digest}: mounted from ${from}`);
          event({ digest: d.digest, status: 'Mounted', ...(from === undefined ? {} : { from }) });
          return;
        }
        uploaded++;
        say(`${what} ${d.digest}: pushed`);
        event({ digest: d.digest, status: 'Pushed' });
      };
      for (const layer of manifest.layers) tell({ digest: layer.digest, status: 'Preparing' });
      for (const layer of manifest.layers) await send(layer, 'layer');
      await send(manifest.config, 'config');
      const mediaType = manifest.mediaType ?? MediaType.ociManifest;
      const digest = await client.putManifest(ref.path, ref.digest ?? ref.tag ?? 'latest', mediaType, bytes);
      if (digest !== image.manifestDigest)
        throw new UserError(`manifest: the registry stored digest ${digest}, not ${image.manifestDigest}`);
      say(`digest: ${digest} size: ${bytes.length}`);
      return { digest, uploaded };
    } catch (err) {
      throw err instanceof UserError ? new UserError(`push ${name}: ${err.message}`, { kind: err.kind, cause: err }) : err;
    }
  });
}
