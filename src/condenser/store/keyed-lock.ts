import { closeSync, constants, fstatSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../../lib/native.js';

/** Locks on one piece of the store (a blob being downloaded, a layer being unpacked), so
 * that pulls work outside the store's lock yet fetch each blob once: flock(2) on a file
 * locks/<key>. The kernel drops a lock when its holder dies, so a killed pull blocks no one. */
export class KeyedLocks {
  constructor(private readonly dir: string) {}

  /** Waits (without blocking the event loop) until `key` is ours; the result releases it. */
  async acquire(key: string): Promise<() => void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const path = join(this.dir, key);
    for (;;) {
      const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
      /* a collector may have removed the file while we waited: lock the file now there */
      if (native().tryFlock(fd, true) && sameFile(fd, path)) return () => closeSync(fd);
      closeSync(fd);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** True when a live process holds `key`. */
  held(key: string): boolean {
    let fd: number;
    try {
      fd = openSync(join(this.dir, key), constants.O_RDONLY);
    } catch {
      return false;
    }
    try {
      return !native().tryFlock(fd, false);
    } finally {
      closeSync(fd);
    }
  }

  /** Removes the lock files no one holds. */
  prune(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(this.dir, name);
      let fd: number;
      try {
        fd = openSync(path, constants.O_RDONLY);
      } catch {
        continue;
      }
      try {
        if (native().tryFlock(fd, true)) rmSync(path, { force: true });
      } finally {
        closeSync(fd);
      }
    }
  }
}

function sameFile(fd: number, path: string): boolean {
  try {
    return fstatSync(fd).ino === statSync(path).ino;
  } catch {
    return false;
  }
}
