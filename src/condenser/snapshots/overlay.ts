import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../../lib/errors.js';
import { parseDigest } from '../../oci/image/digest.js';
import type { StorePaths } from '../store/paths.js';

/** The mount data of mount(2) is one page, its terminating NUL included. */
export const MOUNT_DATA_MAX = 4095;

/** The directories of one overlay root: `diff/` (upper), `work/`, `merged/` (the mount). */
export interface OverlayDirs {
  diff: string;
  work: string;
  merged: string;
}

export function overlayDirs(dir: string): OverlayDirs {
  const abs = resolve(dir);
  return { diff: join(abs, 'diff'), work: join(abs, 'work'), merged: join(abs, 'merged') };
}

/** The short name of a layer under `l/`: 26 base32 characters of its chain ID's hash, as
 * containers-storage does, so that a long stack of lowers fits in the mount data. */
export function shortLinkName(chainId: string): string {
  const bytes = createHash('sha256').update(parseDigest(chainId, 'chain ID').hex).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < 26) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length === 26) break;
  }
  return out;
}

/** Makes `l/<short>` → `../layers/<chain hex>` unless it is there; returns the link's path
 * relative to the store root. */
function ensureLink(paths: StorePaths, chainId: string): string {
  const name = shortLinkName(chainId);
  const target = join('..', 'layers', parseDigest(chainId, 'chain ID').hex);
  const link = join(paths.links, name);
  try {
    if (readlinkSync(link) === target) return join('l', name);
  } catch {}
  mkdirSync(paths.links, { recursive: true, mode: 0o700 });
  const tmp = `${link}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, link);
  return join('l', name);
}

/** Removes the links of `l/` whose layer is gone. */
export function pruneLinks(paths: StorePaths): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(paths.links);
  } catch {
    return 0;
  }
  for (const name of names) {
    const link = join(paths.links, name);
    try {
      statSync(link);
    } catch {
      rmSync(link, { force: true });
      removed++;
    }
  }
  return removed;
}

/** Whether `path` is a mount point of this mount namespace. */
export function isMountPoint(path: string): boolean {
  const want = resolve(path);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const field = line.split(' ')[4];
    if (field === undefined) continue;
    const point = field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    if (point === want) return true;
  }
  return false;
}

/** Mounts overlayfs on `<dir>/merged` with the layers (chain IDs, lowest first) as lowers,
 * the top one first, and `<dir>/diff`, `<dir>/work` as upper and work directories. The
 * lowers are named `l/<short>` relative to the store root, where mount runs. */
export function mountOverlay(paths: StorePaths, chainIds: readonly string[], dir: string, what: string): OverlayDirs {
  const dirs = overlayDirs(dir);
  if (chainIds.length === 0) throw new UserError(`${what}: the image has no layers to mount`, { kind: 'invalid' });
  for (const id of chainIds) {
    try {
      statSync(join(paths.layers, parseDigest(id, 'chain ID').hex));
    } catch {
      throw new UserError(`${what}: layer ${id} is not in the store ${paths.root}`, { kind: 'not-found' });
    }
  }
  const lowers = chainIds.map((id) => ensureLink(paths, id)).reverse();
  const data = `lowerdir=${lowers.join(':')},upperdir=${dirs.diff},workdir=${dirs.work}`;
  if (data.length > MOUNT_DATA_MAX)
    throw new UserError(
      `${what}: its ${chainIds.length} layers do not fit in overlayfs' mount options (${data.length} bytes, at most ${MOUNT_DATA_MAX})`,
      { kind: 'invalid' },
    );
  if (isMountPoint(dirs.merged)) throw new UserError(`${what}: ${dirs.merged} is mounted already`, { kind: 'conflict' });
  for (const d of [dirs.diff, dirs.work, dirs.merged]) mkdirSync(d, { recursive: true, mode: 0o755 });
  const r = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', data, dirs.merged], { cwd: paths.root, encoding: 'utf8' });
  if (r.error) throw new UserError(`${what}: mount: ${r.error.message}`);
  if (r.status !== 0) {
    const msg = (r.stderr || `exited ${r.status}`).trim().split('\n').pop() ?? '';
    throw new UserError(`${what}: mount overlay on ${dirs.merged}: ${msg.replace(/^mount: /, '')}`);
  }
  return dirs;
}

/** Unmounts `<dir>/merged` if mounted and removes `diff/`, `work/` and `merged/`. */
export function unmountOverlay(dir: string, what: string): void {
  const dirs = overlayDirs(dir);
  if (isMountPoint(dirs.merged)) {
    const r = spawnSync('umount', [dirs.merged], { encoding: 'utf8' });
    if (r.error) throw new UserError(`${what}: umount: ${r.error.message}`);
    if (r.status !== 0) {
      const msg = (r.stderr || `exited ${r.status}`).trim().split('\n').pop() ?? '';
      throw new UserError(`${what}: umount ${dirs.merged}: ${msg.replace(/^umount: /, '')}`);
    }
  }
  for (const d of [dirs.merged, dirs.work, dirs.diff]) rmSync(d, { recursive: true, force: true });
}
