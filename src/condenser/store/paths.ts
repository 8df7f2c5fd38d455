import { join } from 'node:path';
import { parseDigest } from '../../oci/image/digest.js';

/** The layout of an image store under its root:
 *   blobs/sha256/<hex>     content-addressed blobs (manifests, configs, layer archives)
 *   layers/<chain hex>/    each layer unpacked once, keyed by its chain ID
 *   images.json            the images and the names that point at them
 *   tmp/                   what is being written; renamed into place when complete
 *   locks/                 one lock file per blob or layer being fetched or unpacked
 *   l/<26 chars>           short links to layers/, for overlayfs' lowerdir */
export class StorePaths {
  constructor(readonly root: string) {}

  get blobs(): string {
    return join(this.root, 'blobs', 'sha256');
  }
  get layers(): string {
    return join(this.root, 'layers');
  }
  get tmp(): string {
    return join(this.root, 'tmp');
  }
  get locks(): string {
    return join(this.root, 'locks');
  }
  get links(): string {
    return join(this.root, 'l');
  }
  get index(): string {
    return join(this.root, 'images.json');
  }

  blob(digest: string): string {
    return join(this.blobs, parseDigest(digest).hex);
  }

  /** A blob's download so far, kept across a failure so the next try resumes it. */
  partial(digest: string): string {
    return join(this.tmp, `blob-${parseDigest(digest).hex}.partial`);
  }

  layer(chainId: string): string {
    return join(this.layers, parseDigest(chainId, 'chain ID').hex);
  }
}
