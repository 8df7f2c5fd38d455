import { closeSync, constants, lstatSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { NotFoundError, errnoCode } from '../../../lib/errors.js';
import type { Engine } from '../../engine.js';
import { O_PATH, RootDir, fdPath, normalInRoot } from '../../containers/in-root.js';
import { ApiError, sendNoContent } from '../http-io.js';
import { type ApiRequest, queryBool } from '../request.js';
import type { Router } from '../router.js';

/** docker cp's endpoints and export. Every path is resolved inside the container's root by
 * the engine (openat2 RESOLVE_IN_ROOT): "..", absolute symlinks and links pointing out all
 * stay in it. */
export function archiveRoutes(router: Router): void {
  router.head('/containers/{id}/archive', async (r) => {
    const stat = await pathStat(r.engine, r.params.id ?? '', pathOf(r));
    r.res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(stat), 'Content-Type': 'application/json' });
    r.res.end();
  });
  router.get('/containers/{id}/archive', getArchive);
  router.put('/containers/{id}/archive', putArchive);
  router.get('/containers/{id}/export', async (r) => {
    r.engine.containers.inspect(r.params.id ?? '');
    r.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await r.engine.containers.exportTo(r.params.id ?? '', r.res);
    /* the engine's export leaves its output open (the CLI writes to stdout) */
    r.res.end();
  });
}

function pathOf(r: ApiRequest): string {
  const path = r.query.get('path');
  if (!path) throw new ApiError(400, 'query parameter path is required');
  return path;
}

/** docker's stat of a container path: the path itself (a symlink as such), with what it
 * leads to inside the root as linkTarget. */
interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

async function pathStat(engine: Engine, id: string, path: string, follow = false): Promise<PathStat> {
  return engine.containers.withRoot(
    id,
    async (view) => {
      const root = new RootDir(view);
      try {
        const inRoot = normalInRoot(path);
        /* "dir/" and "dir/." name what a symlink leads to, as docker's stat */
        const followLast = follow || /\/\.?$/.test(path) || inRoot === '/';
        let st: Stats | undefined;
        if (followLast) st = root.stat(inRoot);
        else {
          let fd: number | undefined;
          try {
            fd = root.open(posix.dirname(inRoot), O_PATH | constants.O_DIRECTORY);
            st = lstatSync(fdPath(fd, posix.basename(inRoot)));
          } catch (err) {
            if (!['ENOENT', 'ENOTDIR'].includes(errnoCode(err) ?? '')) throw err;
          } finally {
            if (fd !== undefined) closeSync(fd);
          }
        }
        if (!st) throw new NotFoundError(`Could not find the file ${path} in container ${id}`);
        let linkTarget = '';
        if (st.isSymbolicLink()) {
          try {
            linkTarget = root.realPath(inRoot);
          } catch {
            /* a dangling link leads nowhere */
          }
        }
        return {
          name: posix.basename(inRoot) || '/',
          size: st.size,
          mode: goFileMode(st),
          mtime: st.mtime.toISOString(),
          linkTarget,
        };
      } finally {
        root.close();
      }
    },
    { livePath: path },
  );
}

/** Go's os.FileMode, which docker's clients decode: the type in the high bits. */
function goFileMode(st: Stats): number {
  let mode = st.mode & 0o777;
  if (st.isDirectory()) mode |= 2 ** 31;
  if (st.isSymbolicLink()) mode |= 2 ** 27;
  if (st.isBlockDevice()) mode |= 2 ** 26;
  if (st.isCharacterDevice()) mode |= 2 ** 26 + 2 ** 21;
  if (st.isFIFO()) mode |= 2 ** 25;
  if (st.isSocket()) mode |= 2 ** 24;
  if (st.mode & 0o4000) mode |= 2 ** 23;
  if (st.mode & 0o2000) mode |= 2 ** 22;
  if (st.mode & 0o1000) mode |= 2 ** 20;
  return mode >>> 0;
}

function statHeader(stat: PathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

/** GET archive: the stat header, then the tar of the path, streamed. */
async function getArchive(r: ApiRequest): Promise<void> {
  const path = pathOf(r);
  const id = r.params.id ?? '';
  const stat = await pathStat(r.engine, id, path);
  r.res.writeHead(200, { 'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': statHeader(stat) });
  await r.engine.containers.copyFrom(id, path, { stream: r.res });
}

/** PUT archive: a tar body extracted under the path, which must be a directory;
 * copyUIDGID keeps the archive's owners (cp -a), as docker does. */
async function putArchive(r: ApiRequest): Promise<void> {
  const path = pathOf(r);
  const id = r.params.id ?? '';
  const stat = await pathStat(r.engine, id, path, true);
  if (stat.mode < 2 ** 31) throw new ApiError(400, `extraction point is not a directory: ${path}`);
  /* noOverwriteDirNonDir (the CLI's default): neither replaces the other; a directory is
   * never replaced by a file in any case */
  await r.engine.containers.copyTo(
    id,
    path,
    { stream: r.req },
    { archive: queryBool(r, 'copyUIDGID'), noOverwriteDirNonDir: queryBool(r, 'noOverwriteDirNonDir') },
  );
  sendNoContent(r.res, 200);
}
