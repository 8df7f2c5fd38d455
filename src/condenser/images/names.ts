import { NotFoundError, UserError } from '../../lib/errors.js';
import { DEFAULT_DOMAIN, formatReference, parseReference } from '../../oci/image/reference.js';
import type { ImageRecord } from '../store/image-index.js';

/** The name as docker shows it: docker.io/library/busybox:latest is busybox:latest. */
export function familiarName(full: string): string {
  if (!full.startsWith(`${DEFAULT_DOMAIN}/`)) return full;
  const rest = full.slice(DEFAULT_DOMAIN.length + 1);
  return rest.startsWith('library/') && !rest.slice('library/'.length).includes('/') ? rest.slice('library/'.length) : rest;
}

export interface Match {
  image: ImageRecord;
  /** the tag the user named, when it was a tag and not an id or digest */
  tag?: string;
}

/** The image a user's word names: an id (full, or a prefix of at least 4 hex digits, as
 * docker), a reference with a tag, or one with a digest. */
export function findImage(images: readonly ImageRecord[], text: string): Match {
  const hex = text.startsWith('sha256:') ? text.slice(7) : text;
  if (/^[a-f0-9]{4,64}$/.test(hex)) {
    const hits = images.filter((i) => i.id.slice(7).startsWith(hex));
    if (hits.length > 1) throw new UserError(`image id prefix "${text}" is ambiguous (${hits.length} images)`, { kind: 'invalid' });
    const [only] = hits;
    if (only && hits.length === 1) return { image: only };
  }
  let ref: ReturnType<typeof parseReference>;
  try {
    ref = parseReference(text);
  } catch (err) {
    if (/^[a-f0-9]{4,64}$/.test(hex)) throw new NotFoundError(`image "${text}" not found`);
    throw err;
  }
  if (ref.digest !== undefined) {
    const name = `${ref.domain}/${ref.path}@${ref.digest}`;
    const image = images.find(
      (i) =>
        i.repoDigests.includes(name) ||
        (i.manifestDigest === ref.digest && i.repoDigests.some((d) => d.startsWith(`${ref.domain}/${ref.path}@`))),
    );
    if (image) return { image };
  } else {
    const name = formatReference(ref);
    const image = images.find((i) => i.repoTags.includes(name));
    if (image) return { image, tag: name };
  }
  throw new NotFoundError(`image "${text}" not found`);
}
