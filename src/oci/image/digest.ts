import { createHash } from 'node:crypto';
import { UserError } from '../../lib/errors.js';

/** A content digest, `algorithm:hex`. Only sha256 is accepted: it is the one registries
 * and the image-spec require, and the one the store is keyed by. */
export interface Digest {
  algorithm: 'sha256';
  hex: string;
}

const SHA256 = /^sha256:([a-f0-9]{64})$/;
const ANY = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function parseDigest(text: string, what = 'digest'): Digest {
  const m = SHA256.exec(text);
  if (m?.[1]) return { algorithm: 'sha256', hex: m[1] };
  if (ANY.test(text) && !text.startsWith('sha256:'))
    throw new UserError(`${what} "${text}": unsupported digest algorithm (only sha256)`, { kind: 'invalid' });
  throw new UserError(`${what} "${text}": invalid digest (expected sha256:<64 hex digits>)`, { kind: 'invalid' });
}

export function isDigest(text: string): boolean {
  return SHA256.test(text);
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
