import { readFileSync } from 'node:fs';
import { UserError } from '../lib/errors.js';
import { formatReference, parseReference } from '../oci/image/reference.js';
import type { ImageConfig } from '../oci/image/types.js';
import { familiarName, findImage } from './images/names.js';
import { type PullOptions, type PullResult, pull } from './images/pull.js';
import type { ImageRecord } from './store/image-index.js';
import { ImageStore } from './store/store.js';

export type { LayerEvent, PullOptions, PullResult } from './images/pull.js';
export type { ImageRecord } from './store/image-index.js';

export interface EngineOptions {
  /** the store root, /var/lib/raind by default */
  root: string;
}

/** What `raind image inspect` shows, in docker's shape. */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created?: string;
  Author?: string;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  Config: ImageConfig['config'] | null;
  RootFS: { Type: string; Layers: string[] };
}

export interface RemoveResult {
  untagged: string[];
  deleted: string[];
}

/** The engine's one entry point for its callers (the raind CLI, later the API server). */
export class Engine {
  readonly images: ImageStore;

  constructor(readonly opts: EngineOptions) {
    this.images = new ImageStore(opts.root);
  }

  pull(ref: string, opts: PullOptions = {}): Promise<PullResult> {
    return pull(this.images, ref, opts);
  }

  listImages(): ImageRecord[] {
    return this.images.images();
  }

  inspectImage(text: string): ImageInspect {
    const { image } = findImage(this.images.images(), text);
    const config = JSON.parse(readFileSync(this.images.blobs.path(image.id), 'utf8')) as ImageConfig;
    return {
      Id: image.id,
      RepoTags: image.repoTags.map(familiarName),
      RepoDigests: image.repoDigests.map(familiarName),
      Created: config.created,
      ...(config.author ? { Author: config.author } : {}),
      Architecture: config.architecture,
      ...(config.variant ? { Variant: config.variant } : {}),
      Os: config.os,
      Size: image.size,
      Config: config.config ?? null,
      RootFS: { Type: config.rootfs.type, Layers: config.rootfs.diff_ids },
    };
  }

  /** Gives the image `source` names the name `target` too (moving it from another image). */
  async tagImage(source: string, target: string): Promise<void> {
    const ref = parseReference(target);
    if (ref.digest !== undefined) throw new UserError(`tag ${target}: a tag cannot hold a digest`, { kind: 'invalid' });
    const name = formatReference(ref);
    await this.images.locked(async () => {
      const images = this.images.images();
      const { image } = findImage(images, source);
      for (const other of images) other.repoTags = other.repoTags.filter((t) => t !== name);
      image.repoTags.push(name);
      this.images.index.write(images);
    });
  }

  /** Removes a name, and the image once no name is left; by id, the image and all its names
   * (several names need force, as docker). Blobs and layers no image uses go with it. */
  async removeImage(text: string, force = false): Promise<RemoveResult> {
    return this.images.locked(async () => {
      const images = this.images.images();
      const { image, tag } = findImage(images, text);
      const out: RemoveResult = { untagged: [], deleted: [] };
      if (tag !== undefined && image.repoTags.length > 1) {
        image.repoTags = image.repoTags.filter((t) => t !== tag);
        out.untagged.push(familiarName(tag));
      } else {
        if (tag === undefined && image.repoTags.length > 1 && !force) {
          throw new UserError(
            `image ${image.id.slice(7, 19)} has several names (${image.repoTags.map(familiarName).join(', ')}): remove them by name, or force`,
            {
              kind: 'conflict',
            },
          );
        }
        out.untagged.push(...image.repoTags.map(familiarName), ...image.repoDigests.map(familiarName));
        images.splice(images.indexOf(image), 1);
        out.deleted.push(image.id);
      }
      this.images.index.write(images);
      this.images.collectGarbage(images);
      return out;
    });
  }
}
