import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { globMatch, parseImageFilters, referenceMatch } from '../../src/raind/filters.js';
import { UsageError } from '../../src/lib/errors.js';

describe('globMatch (Go path.Match)', () => {
  test('* stops at a slash', () => {
    assert.equal(globMatch('*', 'busybox'), true);
    assert.equal(globMatch('*', 'test/busybox'), false);
    assert.equal(globMatch('*/busybox', 'test/busybox'), true);
    assert.equal(globMatch('127.0.0.1:5000/test/*', '127.0.0.1:5000/test/app:1'), true);
    assert.equal(globMatch('127.0.0.1:5000/test/*', '127.0.0.1:5000/test/a/b'), false);
    assert.equal(globMatch('a*b*c', 'axxbyyc'), true);
    assert.equal(globMatch('a*b*c', 'axxbyy'), false);
  });
  test('? and classes', () => {
    assert.equal(globMatch('b?sybox', 'busybox'), true);
    assert.equal(globMatch('a?b', 'a/b'), false);
    assert.equal(globMatch('v[0-9]', 'v7'), true);
    assert.equal(globMatch('v[^0-9]', 'v7'), false);
    assert.equal(globMatch('v[!0-9]', 'vx'), true);
    assert.equal(globMatch('[]a]', ']'), true);
  });
  test('escapes are literal', () => {
    assert.equal(globMatch('a\\*', 'a*'), true);
    assert.equal(globMatch('a\\*', 'ab'), false);
  });
  test('a malformed pattern is a usage error', () => {
    assert.throws(() => globMatch('[a', 'a'), UsageError);
    assert.throws(() => globMatch('a\\', 'a'), UsageError);
  });
});

describe('referenceMatch', () => {
  test('the familiar name with its tag, or without it', () => {
    assert.equal(referenceMatch('busybox', 'busybox:latest'), true);
    assert.equal(referenceMatch('busybox:latest', 'busybox:latest'), true);
    assert.equal(referenceMatch('busybox:1', 'busybox:latest'), false);
    assert.equal(referenceMatch('*/busybox:*', 'test/busybox:1'), true);
    assert.equal(referenceMatch('*/busybox:*', 'busybox:1'), false);
    assert.equal(referenceMatch('127.0.0.1:5000/test/*', '127.0.0.1:5000/test/app:1'), true);
    assert.equal(referenceMatch('127.0.0.1:5000/*', '127.0.0.1:5000/test/app:1'), false);
  });
});

describe('parseImageFilters', () => {
  test('dangling and references', () => {
    assert.deepEqual(parseImageFilters('images', ['dangling=true', 'reference=a', 'reference=b*']), {
      dangling: true,
      references: ['a', 'b*'],
    });
    assert.deepEqual(parseImageFilters('images', []), { references: [] });
  });
  test('refusals name the filter', () => {
    assert.throws(() => parseImageFilters('images', ['label=x']), /unknown filter "label"/);
    assert.throws(() => parseImageFilters('images', ['dangling=maybe']), /dangling must be true or false/);
    assert.throws(() => parseImageFilters('images', ['nokey']), /bad filter "nokey"/);
    assert.throws(() => parseImageFilters('images', ['reference=[a']), /images: filter reference: bad pattern "\[a"/);
  });
});
