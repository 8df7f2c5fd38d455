import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The bytes a tree holds: the sizes of its files and symlinks (directories and device
 * nodes count nothing, as docker's layer sizes). */
export function treeSize(path: string): number {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (st.isFile() || st.isSymbolicLink()) return st.size;
  if (!st.isDirectory()) return 0;
  let total = 0;
  for (const name of readdirSync(path)) total += treeSize(join(path, name));
  return total;
}
