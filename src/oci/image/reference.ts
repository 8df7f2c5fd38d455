import { UserError } from '../../lib/errors.js';
import { parseDigest } from './digest.js';

/** An image reference, normalised as docker does: `busybox` is
 * docker.io/library/busybox:latest. A reference with a digest has no default tag. */
export interface Reference {
  /** registry host[:port], e.g. docker.io, 127.0.0.1:5000 */
  domain: string;
  /** repository path inside the registry, e.g. library/busybox */
  path: string;
  tag?: string;
  digest?: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const NAME_MAX = 255;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

function invalid(ref: string, why: string): UserError {
  return new UserError(`invalid reference "${ref}": ${why}`, { kind: 'invalid' });
}

/** Parses `[host[:port]/]path[:tag][@sha256:hex]`. */
export function parseReference(text: string): Reference {
  if (text === '') throw invalid(text, 'empty');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    try {
      parseDigest(digest);
    } catch (err) {
      throw invalid(text, (err as Error).message);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(text, `invalid tag "${tag}"`);
  }
  if (rest === '') throw invalid(text, 'no repository name');

  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    /* the first component is a host only when it looks like one; `ns/repo` is on docker.io */
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (!DOMAIN.test(domain)) throw invalid(text, `invalid registry host "${domain}"`);
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  if (path === '') throw invalid(text, 'no repository name');
  for (const c of path.split('/')) {
    if (PATH_COMPONENT.test(c)) continue;
    if (PATH_COMPONENT.test(c.toLowerCase())) throw invalid(text, `repository name "${path}" must be lowercase`);
    throw invalid(text, `invalid repository name component "${c}"`);
  }
  if (domain.length + 1 + path.length > NAME_MAX) throw invalid(text, `repository name longer than ${NAME_MAX} characters`);
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { domain, path, tag, digest };
}

/** `docker.io/library/busybox` */
export function repositoryName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The full form: `docker.io/library/busybox:latest`, `host/repo@sha256:...`. */
export function formatReference(ref: Reference): string {
  return `${repositoryName(ref)}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}
