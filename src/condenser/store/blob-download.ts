import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../../lib/errors.js';
import type { StorePaths } from './paths.js';
import { writeFailure } from './write-failure.js';

/** Where a body for a blob comes from: a source asked for the bytes from `offset` on; it says
 * where what it sends starts (0 when it cannot serve ranges). */
export type RangeSource = (offset: number) => Promise<{ body: Readable; offset: number }>;

export interface DownloadHooks {
  /** bytes stored so far of `size` */
  progress?: (done: number) => void;
  /** whether a failure of one transfer is worth another (with the bytes so far kept) */
  retry?: (err: unknown, attempt: number) => Promise<boolean>;
  /** a transfer that sends nothing for this long is broken off (and may be retried) */
  idleMs?: number;
}

/** docker gives up on a silent connection after about this long too */
const IDLE_MS = 30_000;

/** Downloads a blob into tmp/blob-<hex>.partial, resuming what an earlier, broken transfer
 * (or a killed pull) left there: the partial bytes are hashed again and the rest is asked for
 * from where they end. Renamed into blobs/ only when size and digest match. Call it holding
 * the blob's lock: the partial file is the holder's alone. */
export async function downloadBlob(
  paths: StorePaths,
  source: RangeSource,
  digest: string,
  size: number,
  what: string,
  hooks: DownloadHooks = {},
): Promise<void> {
  const final = paths.blob(digest);
  if (existsSync(final)) return;
  mkdirSync(paths.blobs, { recursive: true });
  mkdirSync(paths.tmp, { recursive: true });
  const partial = paths.partial(digest);
  let hash = createHash('sha256');
  let have = 0;
  /* what the file holds is the truth: a write in flight when a transfer broke may be lost */
  const resync = async () => {
    hash = createHash('sha256');
    have = existsSync(partial) ? statSync(partial).size : 0;
    if (have > size) {
      rmSync(partial);
      have = 0;
    }
    if (have > 0) for await (const chunk of createReadStream(partial)) hash.update(chunk as Buffer);
  };
  await resync();
  for (let attempt = 0; ; attempt++) {
    try {
      await transfer();
      break;
    } catch (err) {
      const local = writeFailure(err, what, partial);
      if (local) {
        rmSync(partial, { force: true });
        throw local;
      }
      await resync();
      if (!(hooks.retry && (await hooks.retry(err, attempt)))) {
        if (!(err instanceof UserError)) throw new UserError(`${what}: ${(err as Error).message}`, { cause: err });
        throw err;
      }
    }
  }
  if (have !== size) {
    rmSync(partial, { force: true });
    throw new UserError(`${what}: size mismatch: ${have} bytes received, the manifest gives ${size}`);
  }
  const got = `sha256:${hash.digest('hex')}`;
  if (got !== digest) {
    rmSync(partial, { force: true });
    throw new UserError(`${what}: digest mismatch: the content received has digest ${got}`);
  }
  renameSync(partial, final);

  async function transfer(): Promise<void> {
    if (have === size && size > 0) return;
    const { body, offset } = await source(have);
    if (offset !== have) {
      /* the registry sent the whole blob again: start over */
      if (existsSync(partial)) truncateSync(partial);
      have = 0;
      hash = createHash('sha256');
    }
    const idleMs = hooks.idleMs ?? IDLE_MS;
    let timer: NodeJS.Timeout | undefined;
    const watch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => body.destroy(new Error(`no data for ${idleMs / 1000} s`)), idleMs);
    };
    watch();
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        watch();
        if (have + chunk.length > size) return done(new UserError(`${what}: more than the ${size} bytes the manifest gives`));
        have += chunk.length;
        hash.update(chunk);
        hooks.progress?.(have);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(partial, { flags: 'a', mode: 0o644 }));
    } finally {
      clearTimeout(timer);
    }
  }
}
