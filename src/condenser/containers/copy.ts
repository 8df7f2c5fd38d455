import { closeSync, constants, fstatSync } from 'node:fs';
import { posix } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { NotFoundError, UserError, errnoCode } from '../../lib/errors.js';
import { O_PATH, type RootDir, fdPath, normalInRoot } from './in-root.js';
import { archiveTree, type TreeTop } from './tree-archive.js';
import { extractArchive } from './tree-extract.js';
import { lstatIfExists } from '../../lib/lstat-if-exists.js';

/** One side of a copy: a path inside a root (a container's, or the host's "/"). */
export interface CopyEnd {
  root: RootDir;
  /** as the user wrote it: a trailing "/" or "/." means something (docker cp) */
  path: string;
}

export interface CopyOptions {
  /** -L: follow a symlink that is the source itself */
  follow?: boolean;
  /** the owner of what is written; without it, the archive's (cp -a) */
  owner?: { uid: number; gid: number };
  /** a tar stream's directory never replaces a non-directory (docker's API option) */
  noOverwriteDirNonDir?: boolean;
}

/** A tar of the source, as `docker cp CONTAINER:PATH -` writes it: the top entry named
 * after the source's last component. */
export async function archiveSource(src: CopyEnd, out: Writable, opts: CopyOptions = {}): Promise<void> {
  await withTop(src, opts.follow === true, async (top) => {
    const pack = tar.pack();
    const written = pipeline(pack, out);
    try {
      await archiveTree(pack, top);
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
      await written.catch(() => {});
      throw err;
    }
    await written;
  });
}

/** docker cp SRC DEST between two roots, by docker's rules:
 * - DEST an existing directory: SRC goes inside it (with SRC ending in "/.", its contents);
 * - DEST an existing file: a file SRC replaces it, a directory SRC is refused;
 * - DEST missing: SRC is written as DEST (its parent must exist; "DEST/" for a file SRC is
 *   refused). */
export async function copyBetween(src: CopyEnd, dest: CopyEnd, opts: CopyOptions = {}): Promise<void> {
  await withTop(src, opts.follow === true, async (top, isDir) => {
    const contentsOnly = /(^|\/)\.$/.test(src.path) || top.name === '.';
    const plan = extractionPlan(dest, top.name, isDir, contentsOnly);
    const pack = tar.pack();
    const through = new PassThrough();
    /* the side that fails first has the error to tell: the other one then only sees its
     * stream torn down */
    let first: unknown;
    const noting = (p: Promise<unknown>) =>
      p.catch((err) => {
        first ??= err;
        throw err;
      });
    const results = await Promise.allSettled([
      noting(
        (async () => {
          try {
            await archiveTree(pack, top);
            pack.finalize();
          } catch (err) {
            pack.destroy(err as Error);
            throw err;
          }
        })(),
      ),
      noting(pipeline(pack, through)),
      noting(
        extractArchive(through, { root: dest.root, what: `copy to ${dest.path}`, ...plan, ...(opts.owner ? { owner: opts.owner } : {}) }),
      ),
    ]);
    if (results.some((r) => r.status === 'rejected')) throw first;
  });
}

/** A tar (docker cp - CONTAINER:DEST) into DEST, which must be a directory. */
export async function extractInto(source: Readable, dest: CopyEnd, opts: CopyOptions = {}): Promise<void> {
  const path = normalInRoot(dest.path);
  const st = dest.root.stat(path);
  if (!st) throw new NotFoundError(`copy to ${dest.path}: no such directory`);
  if (!st.isDirectory()) throw new UserError(`copy to ${dest.path}: the destination must be a directory when the source is a tar stream`);
  await extractArchive(source, {
    root: dest.root,
    dest: path,
    what: `copy to ${dest.path}`,
    ...(opts.owner ? { owner: opts.owner } : {}),
    ...(opts.noOverwriteDirNonDir ? { noOverwriteDirNonDir: true } : {}),
  });
}

/** Where the archive of a source named `name` is extracted, and under which name. */
function extractionPlan(dest: CopyEnd, name: string, srcIsDir: boolean, contentsOnly: boolean) {
  const path = normalInRoot(dest.path);
  const st = dest.root.stat(path);
  if (st?.isDirectory()) return { dest: path, ...(contentsOnly ? { rename: { from: name, to: '' } } : {}) };
  if (st && srcIsDir) throw new UserError(`copy to ${dest.path}: cannot copy a directory to a file`, { kind: 'invalid' });
  /* a symlink to a file: the file it leads to (inside the root) is replaced, as docker does */
  if (st) {
    const real = dest.root.realPath(path);
    return { dest: posix.dirname(real), rename: { from: name, to: posix.basename(real) } };
  }
  if (!st && dest.path.endsWith('/') && !srcIsDir) throw new NotFoundError(`copy to ${dest.path}: no such directory`);
  const parent = posix.dirname(path);
  const parentStat = dest.root.stat(parent);
  if (!parentStat?.isDirectory()) throw new NotFoundError(`copy to ${dest.path}: no such directory: ${parent}`);
  return { dest: parent, rename: { from: name, to: posix.basename(path) } };
}

/** The source's top, opened inside its root: its last symlink followed with -L, or when the
 * path ends in "/" or "/." (docker's rule); otherwise a symlink is copied as itself. */
async function withTop<T>(src: CopyEnd, follow: boolean, fn: (top: TreeTop, isDir: boolean) => Promise<T>): Promise<T> {
  const path = normalInRoot(src.path);
  const base = posix.basename(path);
  const followLast = follow || /\/\.?$/.test(src.path) || base === '';
  const name = base === '' ? '.' : base;
  let fd: number;
  try {
    fd = followLast ? src.root.open(path, O_PATH) : src.root.open(posix.dirname(path), O_PATH | constants.O_DIRECTORY);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR')
      throw new NotFoundError(`copy from ${src.path}: no such file or directory`);
    throw err;
  }
  try {
    const top: TreeTop = followLast ? { path: fdPath(fd), follow: true, name } : { path: fdPath(fd, base), follow: false, name };
    const st = followLast ? fstatSync(fd) : lstatIfExists(top.path);
    if (!st) throw new NotFoundError(`copy from ${src.path}: no such file or directory`);
    return await fn(top, st.isDirectory());
  } finally {
    closeSync(fd);
  }
}
