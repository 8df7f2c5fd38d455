import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../../lib/errors.js';
import type { StorePaths } from './paths.js';
import { writeFailure } from './write-failure.js';

/** Content-addressed blobs. A blob is written to a file in tmp/ while its digest and size
 * are computed from the bytes as they stream past; only when both match what was asked
 * for is it renamed into blobs/, so a blob in place is always whole and correct. */
export class BlobStore {
  constructor(private readonly paths: StorePaths) {}

  has(digest: string): boolean {
    return existsSync(this.paths.blob(digest));
  }

  path(digest: string): string {
    return this.paths.blob(digest);
  }

  open(digest: string): Readable {
    return createReadStream(this.paths.blob(digest));
  }

  /** Stores a stream as the blob `digest` of `size` bytes (-1: not known), `what` naming it
   * in errors. A blob already stored is kept; the stream is then not read. */
  async write(source: Readable, digest: string, size: number, what: string): Promise<void> {
    const final = this.paths.blob(digest);
    if (existsSync(final)) {
      source.destroy();
      return;
    }
    mkdirSync(this.paths.blobs, { recursive: true });
    mkdirSync(this.paths.tmp, { recursive: true });
    const tmp = join(this.paths.tmp, `blob-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let seen = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        /* stop at once when a registry sends more than the manifest said */
        if (size >= 0 && seen > size) return done(new UserError(`${what}: more than the ${size} bytes the manifest gives`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
      if (size >= 0 && seen !== size) throw new UserError(`${what}: size mismatch: ${seen} bytes received, the manifest gives ${size}`);
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== digest) throw new UserError(`${what}: digest mismatch: the content received has digest ${got}`);
      renameSync(tmp, final);
    } catch (err) {
      rmSync(tmp, { force: true });
      const local = writeFailure(err, what, tmp);
      if (local) throw local;
      if (err instanceof UserError) throw err;
      throw new UserError(`${what}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Stores bytes already in memory (a manifest) whose digest was computed from them. */
  async writeBytes(bytes: Buffer, digest: string, what: string): Promise<void> {
    await this.write(Readable.from([bytes]), digest, bytes.length, what);
  }

  size(digest: string): number {
    return statSync(this.paths.blob(digest)).size;
  }
}
