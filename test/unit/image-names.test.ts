import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { familiarName, findImage } from '../../src/condenser/images/names.js';
import type { ImageRecord } from '../../src/condenser/store/image-index.js';
import { humanSize, table, timeAgo } from '../../src/raind/output.js';

const record = (c: string, tags: string[], digests: string[] = []): ImageRecord => ({
  id: `sha256:${c.repeat(64)}`,
  manifestDigest: `sha256:${'f'.repeat(64)}`,
  repoDigests: digests,
  repoTags: tags,
  blobs: [],
  layers: [],
  size: 0,
  stored: '2024-01-01T00:00:00Z',
});

describe('image names', () => {
  test('docker shows docker.io names short', () => {
    assert.equal(familiarName('docker.io/library/busybox:latest'), 'busybox:latest');
    assert.equal(familiarName('docker.io/user/app:1'), 'user/app:1');
    assert.equal(familiarName('docker.io/library/a/b:1'), 'library/a/b:1');
    assert.equal(familiarName('127.0.0.1:5000/test/busybox:1'), '127.0.0.1:5000/test/busybox:1');
  });

  const images = [
    record('a', ['docker.io/library/busybox:latest'], [`docker.io/library/busybox@sha256:${'d'.repeat(64)}`]),
    record('b', ['127.0.0.1:5000/x:1']),
    record('c', []),
  ];
  test('by name, normalised as a reference', () => {
    assert.equal(findImage(images, 'busybox').image.id, images[0]?.id);
    assert.equal(findImage(images, 'docker.io/library/busybox:latest').tag, 'docker.io/library/busybox:latest');
    assert.equal(findImage(images, '127.0.0.1:5000/x:1').image, images[1]);
    assert.equal(findImage(images, `busybox@sha256:${'d'.repeat(64)}`).image, images[0]);
  });
  test('by id or an id prefix', () => {
    assert.equal(findImage(images, 'cccc').image, images[2]);
    assert.equal(findImage(images, `sha256:${'b'.repeat(64)}`).image, images[1]);
    assert.equal(findImage(images, 'bbbbbbbbbbbb').tag, undefined);
  });
  test('not found, ambiguous', () => {
    assert.throws(() => findImage(images, 'busybox:1'), /^Error: image "busybox:1" not found$/);
    assert.throws(() => findImage(images, 'eeee'), /image "eeee" not found/);
    assert.throws(
      () => findImage([record('a', []), { ...record('a', []), id: `sha256:${'a'.repeat(63)}b` }], 'aaaa'),
      /image id prefix "aaaa" is ambiguous \(2 images\)/,
    );
  });
});

describe('raind output', () => {
  test('sizes in SI units, times relative, tables aligned', () => {
    assert.equal(humanSize(999), '999B');
    assert.equal(humanSize(1_234_567), '1.23MB');
    assert.equal(timeAgo('2024-01-01T00:00:00Z', Date.parse('2024-01-01T03:00:01Z')), '3 hours ago');
    assert.equal(timeAgo(undefined), 'N/A');
    assert.equal(table(['A', 'BB'], [['xxx', 'y']]), 'A     BB\nxxx   y\n');
  });
});
