import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDuration, parseSize } from '../../src/lib/units.js';

describe('sizes and durations from the command line', () => {
  test('sizes in bytes or with a binary unit; -1 is no limit', () => {
    assert.equal(parseSize('4194304', 'x'), 4194304);
    assert.equal(parseSize('512m', 'x'), 512 * 1024 ** 2);
    assert.equal(parseSize('1g', 'x'), 1024 ** 3);
    assert.equal(parseSize('64kb', 'x'), 64 * 1024);
    assert.equal(parseSize('2MiB', 'x'), 2 * 1024 ** 2);
    assert.equal(parseSize('-1', 'x'), -1);
    assert.throws(() => parseSize('lots', 'update: --memory'), /^Error: update: --memory: "lots" is not a size/);
  });

  test('Go durations in milliseconds, positive', () => {
    assert.equal(parseDuration('5s', 'x'), 5000);
    assert.equal(parseDuration('1m30s', 'x'), 90_000);
    assert.equal(parseDuration('500ms', 'x'), 500);
    assert.equal(parseDuration('10us', 'x'), 1);
    assert.throws(() => parseDuration('5', 'events: --interval'), /events: --interval: "5" is not a duration/);
    assert.throws(() => parseDuration('0s', 'events: --interval'), /not a duration greater than 0/);
  });
});
