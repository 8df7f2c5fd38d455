import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../src/lib/errors.js';
import { DEFAULT_DETACH_KEYS, DetachKeyFilter, parseDetachKeys } from '../../src/lib/detach-keys.js';

describe('--detach-keys', () => {
  test("docker's key names become the bytes a terminal sends", () => {
    assert.deepEqual([...parseDetachKeys(DEFAULT_DETACH_KEYS, 'run: --detach-keys')], [0x10, 0x11]);
    assert.deepEqual([...parseDetachKeys('ctrl-a,d', 'f')], [1, 0x64]);
    assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_', 'f')], [0, 27, 28, 29, 30, 31]);
    assert.deepEqual([...parseDetachKeys('CTRL-P,x', 'f')], [0x10, 0x78]);
    assert.equal(parseDetachKeys('', 'f').length, 0, 'the empty string turns detaching off');
  });

  test('a key that is not one is refused, naming the flag', () => {
    assert.throws(
      () => parseDetachKeys('ctrl-1', 'attach: --detach-keys'),
      (e: unknown) => e instanceof UsageError && /^attach: --detach-keys: "ctrl-1" is not a key/.test(e.message),
    );
    assert.throws(() => parseDetachKeys('ab', 'f'), /"ab" is not a key/);
    assert.throws(() => parseDetachKeys('ctrl-p,', 'f'), /"" is not a key/);
  });

  test('the sequence detaches, across reads; keys that only begin it are passed on', () => {
    const keys = parseDetachKeys(DEFAULT_DETACH_KEYS, 'f');
    const f = new DetachKeyFilter(keys);
    assert.deepEqual(f.feed(Buffer.from('ls\r')), { pass: Buffer.from('ls\r'), detach: false });
    /* ctrl-p alone is held back until the next key says what it was */
    assert.deepEqual(f.feed(Buffer.from([0x10])), { pass: Buffer.alloc(0), detach: false });
    assert.deepEqual(f.feed(Buffer.from('x')), { pass: Buffer.from([0x10, 0x78]), detach: false });
    assert.deepEqual(f.feed(Buffer.from([0x10, 0x10])), { pass: Buffer.from([0x10]), detach: false });
    assert.deepEqual(f.feed(Buffer.from([0x11, 0x61])), { pass: Buffer.alloc(0), detach: true });
    const g = new DetachKeyFilter(keys);
    assert.deepEqual(g.feed(Buffer.from([0x61, 0x10, 0x11])), { pass: Buffer.from('a'), detach: true });
  });

  test('with no keys everything passes', () => {
    const f = new DetachKeyFilter(Buffer.alloc(0));
    assert.deepEqual(f.feed(Buffer.from([0x10, 0x11])), { pass: Buffer.from([0x10, 0x11]), detach: false });
  });
});
