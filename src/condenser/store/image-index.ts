import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { errnoCode, UserError } from '../../lib/errors.js';

/** One image of the store. Its id is its config's digest, as in docker. */
export interface ImageRecord {
  id: string;
  /** the platform's manifest */
  manifestDigest: string;
  /** `name@digest` of what was pulled (an index, or the manifest) */
  repoDigests: string[];
  /** full references, `host/path:tag` */
  repoTags: string[];
  /** every blob the image holds on to: index, manifest, config, layers */
  blobs: string[];
  /** chain IDs of its unpacked layers, lowest first */
  layers: string[];
  /** the summed size of its layer blobs */
  size: number;
  created?: string;
  /** when it was stored here */
  stored: string;
}

interface IndexFile {
  version: 1;
  images: ImageRecord[];
}

/** images.json: the images and their names. Read whole, changed in memory, written whole
 * and atomically; the caller holds the store's lock around a read-modify-write. */
export class ImageIndex {
  constructor(private readonly path: string) {}

  read(): ImageRecord[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw new UserError(`read ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const doc = JSON.parse(text) as IndexFile;
      if (doc.version !== 1 || !Array.isArray(doc.images)) throw new Error('unknown format');
      return doc.images;
    } catch (err) {
      throw new UserError(`read ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  write(images: ImageRecord[]): void {
    const doc: IndexFile = { version: 1, images };
    writeFileAtomic(this.path, `${JSON.stringify(doc, null, 2)}\n`);
  }
}
