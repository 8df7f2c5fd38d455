import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../lib/errors.js';

/** Symlinks followed before a path is taken for a loop, as the kernel's limit. */
const MAX_LINKS = 40;

/** The host path of `path` inside the root filesystem `root`, resolved as the container
 * would see it: each symlink on the way is followed as if `root` were `/` (an absolute
 * link starts again at root, `..` stops at root), so the result never lies outside root.
 * undefined when a part of it does not exist. */
export function resolveInRoot(root: string, path: string): string | undefined {
  const done: string[] = [];
  let todo = path.split('/');
  let links = 0;
  while (todo.length > 0) {
    const part = todo.shift() ?? '';
    if (part === '' || part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const here = join(root, ...done, part);
    const st = lstatSync(here, { throwIfNoEntry: false });
    if (!st) return undefined;
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new UserError(`resolve ${path} in ${root}: too many levels of symbolic links`, { kind: 'invalid' });
      const link = readlinkSync(here);
      if (link.startsWith('/')) done.length = 0;
      todo = [...link.split('/'), ...todo];
      continue;
    }
    if (todo.some((p) => p !== '' && p !== '.') && !st.isDirectory()) return undefined;
    done.push(part);
  }
  return join(root, ...done);
}
