import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  createWriteStream,
  fchmodSync,
  fchownSync,
  fstatSync,
  futimesSync,
  linkSync,
  lchownSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
} from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, type Header as Headers } from 'tar-stream';
import { UserError, errnoCode } from '../../lib/errors.js';
import { native } from '../../lib/native.js';
import { O_PATH, type RootDir, fdPath } from './in-root.js';
import { lstatIfExists } from '../../lib/lstat-if-exists.js';

export interface ExtractOptions {
  root: RootDir;
  /** the directory, inside the root, the entries go below */
  dest: string;
  /** docker's rebase: the entry `from` (and those below it) is written as `to` */
  rename?: { from: string; to: string };
  /** every entry's owner; without it, the archive's */
  owner?: { uid: number; gid: number };
  /** names the error messages */
  what: string;
  /** a directory entry never replaces what is not a directory (docker's noOverwriteDirNonDir;
   * a directory is never replaced by anything else in any case) */
  noOverwriteDirNonDir?: boolean;
}

/** Writes a tar into a directory of a root (see in-root.ts): each entry's directory is
 * resolved inside the root, and its last component is never followed: an existing symlink
 * (or file) there is replaced, as tar does, never written through. Modes, owners and times
 * are set through an fd of the very file made. */
export async function extractArchive(source: Readable, opts: ExtractOptions): Promise<void> {
  const tar = extract();
  const feeding = pipeline(source, tar);
  const dirTimes: [string, Date][] = [];
  try {
    for await (const entry of tar) {
      const stream = entry as unknown as Readable;
      const rel = mapName(entry.header.name, opts);
      if (rel !== undefined) await writeEntry(opts, posix.join(opts.dest, rel), entry.header, stream, dirTimes);
      stream.resume();
    }
    await feeding;
  } catch (err) {
    source.destroy();
    await feeding.catch(() => {});
    if (err instanceof UserError) throw err;
    throw new UserError(`${opts.what}: ${(err as Error).message}`, { cause: err });
  }
  /* last: writing into a directory changes its time */
  for (const [path, mtime] of dirTimes.reverse()) {
    const fd = openOrUndefined(opts.root, path);
    if (fd === undefined) continue;
    try {
      if (fstatSync(fd).isDirectory()) utimesSync(fdPath(fd), mtime, mtime);
    } finally {
      closeSync(fd);
    }
  }
}

/** The entry's path below dest, after the rename; undefined for the dest itself. */
function mapName(name: string, opts: ExtractOptions): string | undefined {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UserError(`${opts.what}: entry "${name}" leaves the destination ("..")`, { kind: 'invalid' });
  let rel = parts.join('/');
  const from = opts.rename?.from;
  if (from !== undefined && opts.rename) {
    /* "." is a root's archive: every entry is below it */
    if (from === '.') rel = posix.join(opts.rename.to, rel);
    else if (rel === from) rel = opts.rename.to;
    else if (rel.startsWith(`${from}/`)) rel = posix.join(opts.rename.to, rel.slice(from.length + 1));
  }
  rel = posix.normalize(rel);
  return rel === '.' || rel === '' ? undefined : rel;
}

async function writeEntry(opts: ExtractOptions, path: string, h: Headers, data: Readable, dirTimes: [string, Date][]): Promise<void> {
  const uid = opts.owner?.uid ?? h.uid ?? 0;
  const gid = opts.owner?.gid ?? h.gid ?? 0;
  const mode = (h.mode ?? 0o644) & 0o7777;
  const mtime = h.mtime ?? new Date();
  const { root } = opts;
  await root.withParentAsync(path, async (dir, name) => {
    const at = fdPath(dir, name);
    const existing = lstatIfExists(at);
    const replace = () => {
      if (!existing) return;
      if (existing.isDirectory())
        throw new UserError(`${opts.what}: cannot overwrite the directory ${path} with a non-directory`, { kind: 'invalid' });
      unlinkSync(at);
    };
    switch (h.type) {
      case 'directory': {
        if (existing && !existing.isDirectory()) {
          if (opts.noOverwriteDirNonDir)
            throw new UserError(`${opts.what}: cannot overwrite the non-directory ${path} with a directory`, { kind: 'invalid' });
          unlinkSync(at);
        }
        if (!existing?.isDirectory()) mkdirSync(at, 0o700);
        setMeta(at, 'directory', uid, gid, mode, undefined, opts.what);
        dirTimes.push([path, mtime]);
        return;
      }
      case 'file':
      case 'contiguous-file': {
        replace();
        const fd = openSync(at, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          await pipeline(data, createWriteStream('', { fd, autoClose: false }));
          fchownSync(fd, uid, gid);
          fchmodSync(fd, mode);
          futimesSync(fd, mtime, mtime);
        } finally {
          closeSync(fd);
        }
        return;
      }
      case 'symlink':
        replace();
        symlinkSync(h.linkname ?? '', at);
        lchownSync(at, uid, gid);
        lutimesSync(at, mtime, mtime);
        return;
      case 'link': {
        replace();
        const target = mapName(h.linkname ?? '', opts);
        if (target === undefined) throw new UserError(`${opts.what}: hard link ${h.name} to the destination itself`, { kind: 'invalid' });
        root.withParent(posix.join(opts.dest, target), (tdir, tname) => linkSync(fdPath(tdir, tname), at));
        return;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        replace();
        const type = h.type === 'fifo' ? constants.S_IFIFO : h.type === 'block-device' ? constants.S_IFBLK : constants.S_IFCHR;
        native().mknod(at, type | 0o600, h.devmajor ?? 0, h.devminor ?? 0);
        setMeta(at, h.type, uid, gid, mode, mtime, opts.what);
        return;
      }
      default:
      /* pax and GNU headers are read by tar-stream; other kinds are not copied */
    }
  });
}

/** Owner, mode and time of what was just made at `at`, through an O_PATH fd of it, checked
 * to be still what was made (not a symlink put there meanwhile). chown first: it clears
 * the set-id bits the mode may hold. */
function setMeta(at: string, type: string, uid: number, gid: number, mode: number, mtime: Date | undefined, what: string): void {
  const fd = openSync(at, O_PATH | constants.O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    const same =
      type === 'directory'
        ? st.isDirectory()
        : type === 'fifo'
          ? st.isFIFO()
          : type === 'block-device'
            ? st.isBlockDevice()
            : st.isCharacterDevice();
    if (!same) throw new UserError(`${what}: ${at.replace(/^\/proc\/self\/fd\/\d+\//, '')} changed while it was copied`);
    chownSync(fdPath(fd), uid, gid);
    chmodSync(fdPath(fd), mode);
    if (mtime) utimesSync(fdPath(fd), mtime, mtime);
  } finally {
    closeSync(fd);
  }
}

function openOrUndefined(root: RootDir, path: string): number | undefined {
  try {
    return root.open(path, O_PATH | constants.O_NOFOLLOW);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}
