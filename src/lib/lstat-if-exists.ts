import { type Stats, lstatSync } from 'node:fs';
import { errnoCode } from './errors.js';

/** lstat(2), with undefined for a path that does not exist; any other failure throws. */
export function lstatIfExists(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}
