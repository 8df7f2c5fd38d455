import { closeSync, constants, fstatSync, openSync, readlinkSync, realpathSync, type Stats } from 'node:fs';
import { basename, dirname, posix } from 'node:path';
import { NotFoundError, UserError, errnoCode } from '../../lib/errors.js';
import { native } from '../../lib/native.js';

/** O_PATH, which Node's fs.constants lacks (Linux's value): an fd that names a file
 * without opening it for reading or writing. */
export const O_PATH = 0o10000000;

/** The path of an open fd, or of `name` inside the directory it names. The kernel follows
 * /proc/self/fd/N to the very file the fd holds, wherever it has been moved since, so only
 * `name`, one component, is looked up: with the no-follow calls (lstat, O_NOFOLLOW, mkdir,
 * symlink, unlink, lchown) nothing there can lead elsewhere. */
export function fdPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

/** A directory tree whose paths are resolved inside it: a container's root, where "/" and
 * ".." and every absolute symlink mean the root itself, never the host's. It is openat2's
 * RESOLVE_IN_ROOT (the addon): one kernel call per path, immune to a container swapping a
 * directory for a symlink in the middle of a copy, which resolving component by component
 * with lstat and readlink in TypeScript is not. The host itself is `new RootDir('/')`. */
export class RootDir {
  readonly fd: number;

  readonly hostPath: string;

  constructor(hostPath: string) {
    this.hostPath = realpathSync(hostPath);
    this.fd = openSync(hostPath, O_PATH | constants.O_DIRECTORY);
  }

  close(): void {
    closeSync(this.fd);
  }

  /** open(2) of path resolved in the root; flags as open's. Errors keep their code. */
  open(path: string, flags: number, mode = 0): number {
    try {
      return native().openInRoot(this.fd, path === '' ? '.' : path, flags, mode);
    } catch (err) {
      const code = errnoCode(err);
      const message = `${path}: ${describeErrno(code, err)}`;
      /* the errno's name stays on it: callers tell a missing path from a refused one */
      throw Object.assign(code === 'ENOENT' ? new NotFoundError(message) : new UserError(message), { code });
    }
  }

  /** The object at path (its last symlink followed, inside the root), or undefined. */
  stat(path: string): Stats | undefined {
    let fd: number;
    try {
      fd = this.open(path, O_PATH);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
      throw err;
    }
    try {
      return fstatSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Where path leads inside the root, every symlink followed there: "/etc/passwd" for a
   * link to it (the kernel names the file an fd holds; the root's part is cut off). */
  realPath(path: string): string {
    const fd = this.open(path, O_PATH);
    try {
      const host = readlinkSync(fdPath(fd));
      const base = this.hostPath === '/' ? '' : this.hostPath.replace(/\/+$/, '');
      if (host !== base && !host.startsWith(`${base}/`)) throw new UserError(`${path}: resolved outside the root (${host})`);
      return host.slice(base.length) || '/';
    } finally {
      closeSync(fd);
    }
  }

  /** Runs fn with an O_PATH fd of path's directory (resolved in the root) and its last
   * component, which fn must not follow. */
  withParent<T>(path: string, fn: (dirFd: number, name: string) => T): T {
    const fd = this.open(dirname(path), O_PATH | constants.O_DIRECTORY);
    try {
      return fn(fd, basename(path));
    } finally {
      closeSync(fd);
    }
  }

  async withParentAsync<T>(path: string, fn: (dirFd: number, name: string) => Promise<T>): Promise<T> {
    const fd = this.open(dirname(path), O_PATH | constants.O_DIRECTORY);
    try {
      return await fn(fd, basename(path));
    } finally {
      closeSync(fd);
    }
  }
}

/** The root-relative form of a container path: "/" for "", no "..", no trailing slash. */
export function normalInRoot(path: string): string {
  return posix.normalize(`/${path}`);
}

function describeErrno(code: string | undefined, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const why = message.slice(message.lastIndexOf(': ') + 2);
  if (code === 'EXDEV' || code === 'ELOOP') return `${why} (resolved inside the container's root)`;
  return why.charAt(0).toLowerCase() + why.slice(1);
}
