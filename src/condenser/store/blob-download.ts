import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';
import { type Readable, Transform, type Writable } from 'node:stream';
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
  /** a second reader of the bytes, fed as they arrive (an unpacker), when the download
   * starts from the first byte; see downloadBlob for when it is cut off */
  sink?: Writable;
}

/** docker gives up on a silent connection after about this long too */
const IDLE_MS = 30_000;

/** Downloads a blob into tmp/blob-<hex>.partial, resuming what an earlier, broken transfer
 * (or a killed pull) left there: the partial bytes are hashed again and the rest is asked for
 * from where they end. Renamed into blobs/ only when size and digest match. Call it holding
 * the blob's lock: the partial file is the holder's alone.
 *
 * A sink gets every byte once, in order, and is ended only once the blob is verified and in
 * place; the result is then true. It is destroyed instead, and the result is false, when it
 * cannot get them all that way: a partial file to resume, a transfer that broke (resumed or
 * not), the sink's own failure (the download goes on without it) or the download's failure.
 * The caller then reads the stored blob, if there is one. */
export async function downloadBlob(
  paths: StorePaths,
  source: RangeSource,
  digest: string,
  size: number,
  what: string,
  hooks: DownloadHooks = {},
): Promise<boolean> {
  const final = paths.blob(digest);
  let sink = hooks.sink;
  /* without an error: nobody may be listening for one any more; its reader sees the stream
   * close early */
  const cutSink = () => {
    sink?.destroy();
    sink = undefined;
  };
  if (existsSync(final)) {
    cutSink();
    return false;
  }
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
  if (have > 0) cutSink();
  try {
    await transferAll();
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
  } catch (err) {
    cutSink();
    throw err;
  }
  /* a sink that failed after its last write did not get everything through */
  if (sink?.destroyed) sink = undefined;
  sink?.end();
  return sink !== undefined;

  async function transferAll(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await transfer();
        return;
      } catch (err) {
        const local = writeFailure(err, what, partial);
        if (local) {
          rmSync(partial, { force: true });
          throw local;
        }
        /* the sink has bytes the file may have lost: the stored blob is read afterwards */
        cutSink();
        await resync();
        if (!(hooks.retry && (await hooks.retry(err, attempt)))) {
          if (!(err instanceof UserError)) throw new UserError(`${what}: ${(err as Error).message}`, { cause: err });
          throw err;
        }
      }
    }
  }

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
        if (sink?.destroyed) sink = undefined;
        if (!sink || sink.write(chunk)) return done(null, chunk);
        /* a slow sink holds the transfer back (memory stays flat); its wait is not silence */
        clearTimeout(timer);
        whenWritable(sink).then(
          () => {
            watch();
            done(null, chunk);
          },
          () => {
            /* the sink failed on its own: the download goes on without it */
            sink = undefined;
            watch();
            done(null, chunk);
          },
        );
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(partial, { flags: 'a', mode: 0o644 }));
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Resolves when `w` drained, rejects when it was destroyed first. */
function whenWritable(w: Writable): Promise<void> {
  if (w.destroyed) return Promise.reject(new Error('destroyed'));
  return new Promise((ok, fail) => {
    const drained = () => {
      w.off('close', closed);
      ok();
    };
    const closed = () => {
      w.off('drain', drained);
      fail(new Error('destroyed'));
    };
    w.once('drain', drained);
    w.once('close', closed);
  });
}
