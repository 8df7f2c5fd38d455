import { UserError } from '../../lib/errors.js';

const LOCAL: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EROFS: 'read-only file system',
};

/** A failure of the store's own file system (full disk, quota, read-only), found on `err` or
 * its causes, as one error naming what was being written; undefined for any other failure. */
export function writeFailure(err: unknown, what: string, path: string): UserError | undefined {
  for (let e = err, depth = 0; e && depth < 8; e = (e as Error).cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && LOCAL[code] !== undefined)
      return new UserError(`${what}: writing ${path}: ${LOCAL[code]} (${code})`, { cause: err });
  }
  return undefined;
}
