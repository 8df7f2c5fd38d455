import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
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
});
