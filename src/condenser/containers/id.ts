import { randomBytes } from 'node:crypto';

/** Crockford's base32 in lower case, as ULIDs use: no i, l, o, u. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** A container id as in the seed (`01kf2a3a1tbc`): 12 base32 characters, the first ten the
 * milliseconds since the epoch (a ULID's time part, so ids sort by creation time), the last
 * two random. Two ids of the same millisecond can collide (1 in 1024): the caller claims an
 * id by making its directory and asks again when it is taken. */
export function newContainerId(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const [a = 0, b = 0] = randomBytes(2);
  return time + ALPHABET[a % 32] + ALPHABET[b % 32];
}

export function isContainerId(text: string): boolean {
  return /^[0-9a-hjkmnp-tv-z]{12}$/.test(text);
}
