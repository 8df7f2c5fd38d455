import { readFileSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';

/** On a pure v2 host a cgroup has only the controllers its parent enables in
 * cgroup.subtree_control: enable every available one down the path, as runc does. A parent
 * that refuses (it holds processes itself) is left as it is; a resource that then lacks its
 * controller fails with an error naming it. */
export function enableControllers(mountpoint: string, path: string): void {
  const parts = path.split('/').filter(Boolean);
  let dir = mountpoint;
  for (const part of parts) {
    const available = readFileSync(posix.join(dir, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean);
    const enabled = new Set(readFileSync(posix.join(dir, 'cgroup.subtree_control'), 'utf8').split(/\s+/).filter(Boolean));
    const missing = available.filter((c) => !enabled.has(c)).map((c) => `+${c}`);
    const control = posix.join(dir, 'cgroup.subtree_control');
    /* all in one write; if the kernel refuses one of them, each alone */
    if (missing.length && !tryWrite(control, missing.join(' '))) for (const m of missing) tryWrite(control, m);
    dir = posix.join(dir, part);
  }
}

function tryWrite(file: string, text: string): boolean {
  try {
    writeFileSync(file, text, { flag: 'r+' });
    return true;
  } catch {
    return false;
  }
}
