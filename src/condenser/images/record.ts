import type { ImageRecord } from '../store/image-index.js';

export interface NewImage {
  id: string;
  manifestDigest: string;
  blobs: string[];
  layers: string[];
  size: number;
  created?: string;
}

/** Adds an image to the list (or finds it, by id), holding on to its blobs, and gives it
 * the names: a tag moves here from the image it named before, as docker. */
export function recordImage(images: ImageRecord[], add: NewImage, tags: string[], repoDigests: string[] = []): ImageRecord {
  let image = images.find((i) => i.id === add.id);
  if (!image) {
    image = {
      id: add.id,
      manifestDigest: add.manifestDigest,
      repoDigests: [],
      repoTags: [],
      blobs: [],
      layers: add.layers,
      size: add.size,
      ...(add.created !== undefined ? { created: add.created } : {}),
      stored: new Date().toISOString(),
    };
    images.push(image);
  }
  image.blobs = [...new Set([...image.blobs, ...add.blobs])];
  for (const d of repoDigests) if (!image.repoDigests.includes(d)) image.repoDigests.push(d);
  for (const tag of tags) {
    for (const other of images) other.repoTags = other.repoTags.filter((t) => t !== tag);
    image.repoTags.push(tag);
  }
  return image;
}
