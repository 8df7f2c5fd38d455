import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { type RangeSource, downloadBlob } from '../../src/condenser/store/blob-download.js';
import { StorePaths } from '../../src/condenser/store/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'raind-blob-download-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const data = randomBytes(300_000);
const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
const always = async () => true;

/** a body of data[from..to), then an error (or, with stall, silence) */
function body(from: number, to: number, end: 'ok' | 'error' | 'stall'): Readable {
  const r = new Readable({ read() {} });
  r.push(data.subarray(from, to));
  if (end === 'ok') r.push(null);
  else if (end === 'error') setImmediate(() => r.destroy(new Error('ECONNRESET')));
  return r;
}

describe('blob download', () => {
  test('a broken transfer resumes from the bytes stored, and the blob is whole', async () => {
    const paths = new StorePaths(join(dir, `s${n++}`));
    const asked: number[] = [];
    const source: RangeSource = async (offset) => {
      asked.push(offset);
      if (asked.length === 1) return { body: body(0, 100_000, 'error'), offset: 0 };
      return { body: body(offset, data.length, 'ok'), offset };
    };
    await downloadBlob(paths, source, digest, data.length, 'blob', { retry: always });
    /* what was in flight when the connection broke may not have reached the file */
    assert.equal(asked.length, 2);
    assert.ok(asked[1]! > 0 && asked[1]! <= 100_000, `resumed from ${asked[1]}`);
    assert.ok(readFileSync(paths.blob(digest)).equals(data));
    assert.ok(!existsSync(paths.partial(digest)));
  });

  test('a partial file from a killed pull is hashed again and continued', async () => {
    const paths = new StorePaths(join(dir, `s${n++}`));
    mkdirSync(paths.tmp, { recursive: true });
    writeFileSync(paths.partial(digest), data.subarray(0, 123_456));
    const asked: number[] = [];
    await downloadBlob(
      paths,
      async (offset) => {
        asked.push(offset);
        return { body: body(offset, data.length, 'ok'), offset };
      },
      digest,
      data.length,
      'blob',
    );
    assert.deepEqual(asked, [123_456]);
    assert.ok(readFileSync(paths.blob(digest)).equals(data));
  });

  test('a silent transfer is broken off after the idle time and resumed', async () => {
    const paths = new StorePaths(join(dir, `s${n++}`));
    const asked: number[] = [];
    const source: RangeSource = async (offset) => {
      asked.push(offset);
      return asked.length === 1 ? { body: body(0, 50_000, 'stall'), offset: 0 } : { body: body(offset, data.length, 'ok'), offset };
    };
    await downloadBlob(paths, source, digest, data.length, 'blob', { retry: always, idleMs: 200 });
    assert.deepEqual(asked, [0, 50_000]);
    assert.ok(readFileSync(paths.blob(digest)).equals(data));
  });

  test('a wrong partial file fails the digest check and is removed; no retry without a hook', async () => {
    const paths = new StorePaths(join(dir, `s${n++}`));
    mkdirSync(paths.tmp, { recursive: true });
    writeFileSync(paths.partial(digest), Buffer.alloc(1000));
    await assert.rejects(
      downloadBlob(paths, async (offset) => ({ body: body(offset, data.length, 'ok'), offset }), digest, data.length, 'blob x'),
      { message: /^blob x: digest mismatch: the content received has digest sha256:[0-9a-f]{64}$/ },
    );
    assert.ok(!existsSync(paths.partial(digest)) && !existsSync(paths.blob(digest)));
    await assert.rejects(
      downloadBlob(paths, async () => ({ body: body(0, 10, 'error'), offset: 0 }), digest, data.length, 'blob y'),
      { message: /^blob y: ECONNRESET$/ },
    );
  });

  test('a sink gets every byte and is ended only once the blob is in place', async () => {
    const paths = new StorePaths(join(dir, `s${n++}`));
    const sink = collect();
    const streamed = await downloadBlob(paths, async () => ({ body: body(0, data.length, 'ok'), offset: 0 }), digest, data.length, 'blob', {
      sink: sink.stream,
    });
    assert.equal(streamed, true);
    await sink.done;
    assert.ok(sink.ended && Buffer.concat(sink.chunks).equals(data));
    assert.ok(sink.endedWithBlob, 'the blob was in place when the sink ended');
  });

  test('a sink is cut off, never ended, when the transfer breaks, when a partial file is resumed and when the digest is wrong', async () => {
    const broken = new StorePaths(join(dir, `s${n++}`));
    let first = true;
    const sink = collect();
    const source: RangeSource = async (offset) => {
      if (first) {
        first = false;
        return { body: body(0, 100_000, 'error'), offset: 0 };
      }
      return { body: body(offset, data.length, 'ok'), offset };
    };
    assert.equal(await downloadBlob(broken, source, digest, data.length, 'blob', { retry: always, sink: sink.stream }), false);
    assert.ok(sink.stream.destroyed && !sink.ended);
    assert.ok(readFileSync(broken.blob(digest)).equals(data), 'the download went on without it');

    const resumed = new StorePaths(join(dir, `s${n++}`));
    mkdirSync(resumed.tmp, { recursive: true });
    writeFileSync(resumed.partial(digest), data.subarray(0, 1000));
    const second = collect();
    const ok = async (offset: number) => ({ body: body(offset, data.length, 'ok'), offset });
    assert.equal(await downloadBlob(resumed, ok, digest, data.length, 'blob', { sink: second.stream }), false);
    assert.ok(second.stream.destroyed && !second.ended);

    const wrong = new StorePaths(join(dir, `s${n++}`));
    const third = collect();
    const other = `sha256:${'1'.repeat(64)}`;
    await assert.rejects(downloadBlob(wrong, ok, other, data.length, 'blob', { sink: third.stream }), /digest mismatch/);
    assert.ok(third.stream.destroyed && !third.ended);
    assert.ok(!existsSync(wrong.blob(other)));
  });

  test('a sink that fails on its own is dropped and the download goes on', async () => {
    const paths = new StorePaths(join(dir, `s${n++}`));
    const failing = new Writable({
      highWaterMark: 1,
      write(_c, _e, done) {
        setImmediate(() => failing.destroy());
        done();
      },
    });
    const streamed = await downloadBlob(paths, async () => ({ body: body(0, data.length, 'ok'), offset: 0 }), digest, data.length, 'blob', {
      sink: failing,
    });
    assert.equal(streamed, false);
    assert.ok(readFileSync(paths.blob(digest)).equals(data));
  });

  /** a writable that keeps what it gets, slowly (it pushes back) */
  function collect() {
    const out = {
      chunks: [] as Buffer[],
      ended: false,
      endedWithBlob: false,
      stream: undefined as unknown as Writable,
      done: Promise.resolve(),
    };
    out.stream = new Writable({
      highWaterMark: 4096,
      write(chunk: Buffer, _e, done) {
        out.chunks.push(chunk);
        setImmediate(done);
      },
      final(done) {
        out.ended = true;
        out.endedWithBlob = existsSync(join(dir, `s${n - 1}`, 'blobs/sha256', digest.slice(7)));
        done();
      },
    });
    out.done = new Promise((ok) => out.stream.on('finish', ok));
    return out;
  }
});
