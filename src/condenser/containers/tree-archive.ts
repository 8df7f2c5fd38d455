import {
  closeSync,
  constants,
  createReadStream,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  type Stats,
  statSync,
} from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type tar from 'tar-stream';
import { UserError } from '../../lib/errors.js';
import { fdPath } from './in-root.js';

/** Where the tree to archive starts: a path (a /proc/self/fd one for a file of a container's
 * root, see in-root.ts) and whether its last symlink is followed (cp -L). */
export interface TreeTop {
  path: string;
  follow: boolean;
  /** the name of the top entry in the archive; its children are under it */
  name: string;
}

/** Adds the tree at top to the archive: directories, files, symlinks (never followed below
 * the top), hard links among its files, device nodes and FIFOs, with modes, owners and times.
 * Each directory is read through an fd of its own and each child looked up in it without
 * following, so a tree changing underneath (a running container) cannot lead outside it. */
export async function archiveTree(pack: tar.Pack, top: TreeTop): Promise<void> {
  const links = new Map<string, string>();
  await addEntry(pack, top.path, top.name, top.follow, links);
}

async function addEntry(pack: tar.Pack, path: string, name: string, follow: boolean, links: Map<string, string>): Promise<void> {
  const st = follow ? statSync(path) : lstatSync(path);
  const base = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
  if (st.isDirectory()) {
    await entry(pack, { ...base, name: `${name}/`, type: 'directory' });
    const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | (follow ? 0 : constants.O_NOFOLLOW));
    try {
      for (const child of readdirSync(fdPath(fd)).sort()) await addEntry(pack, fdPath(fd, child), `${name}/${child}`, false, links);
    } finally {
      closeSync(fd);
    }
  } else if (st.isFile()) {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? links.get(key) : undefined;
    if (first !== undefined) return entry(pack, { ...base, type: 'link', linkname: first });
    if (st.nlink > 1) links.set(key, name);
    /* O_NONBLOCK: a file swapped for a FIFO since the lstat must not hang the copy */
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (follow ? 0 : constants.O_NOFOLLOW));
    const opened = fstatSync(fd);
    if (!opened.isFile() || opened.ino !== st.ino) {
      closeSync(fd);
      throw new UserError(`${name}: changed while it was copied`);
    }
    const sink = pack.entry({ ...base, type: 'file', size: opened.size });
    if (opened.size === 0) {
      closeSync(fd);
      sink.end(Buffer.alloc(0));
      return;
    }
    await pipeline(createReadStream('', { fd, start: 0, end: opened.size - 1 }), sink);
  } else if (st.isSymbolicLink()) {
    await entry(pack, { ...base, type: 'symlink', linkname: readlinkSync(path) });
  } else if (st.isCharacterDevice() || st.isBlockDevice()) {
    const { major, minor } = deviceNumbers(st);
    await entry(pack, { ...base, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major, devminor: minor });
  } else if (st.isFIFO()) {
    await entry(pack, { ...base, type: 'fifo' });
  }
  /* sockets: a tar cannot hold one (docker and GNU tar skip them too) */
}

function entry(pack: tar.Pack, header: Partial<tar.Header> & { name: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
}

/** glibc's major()/minor() of a dev_t. */
function deviceNumbers(st: Stats): { major: number; minor: number } {
  const dev = BigInt(st.rdev);
  return {
    major: Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)),
    minor: Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn)),
  };
}
