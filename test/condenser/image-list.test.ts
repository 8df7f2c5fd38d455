import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stopSuiteRegistry, TestRegistry } from '../helpers/registry.js';
import { raind, raindOk } from '../helpers/raind.js';
import { type PushedImage, pushBusybox, pushIndex } from '../helpers/test-image.js';

let dir: string;
let root: string;
let registry: TestRegistry;
let a: PushedImage;
let b: PushedImage;
let old: PushedImage;

interface Row {
  Id: string;
  Repository: string;
  Tag: string;
  Digest: string;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'raind-list-'));
  root = join(dir, 'root');
  registry = new TestRegistry(join(dir, 'registry'));
  await registry.start();
  a = await pushBusybox(registry, 'test/busybox', '1', { marker: 'a' });
  b = await pushBusybox(registry, 'test/app', '2', { marker: 'b' });
  old = await pushBusybox(registry, 'test/busybox', 'old', { marker: 'old' });
  for (const ref of ['test/busybox:1', 'test/app:2', 'test/busybox:old']) raindOk(root, ['pull', '-q', `${registry.host}/${ref}`]);
  /* the tag moves to image a: the old image keeps no tag, it is dangling */
  raindOk(root, ['tag', `${registry.host}/test/busybox:1`, `${registry.host}/test/busybox:old`]);
  raindOk(root, ['tag', `${registry.host}/test/busybox:1`, 'busybox:latest']);
  raindOk(root, ['tag', `${registry.host}/test/app:2`, 'mine/busybox:7']);
});
after(async () => {
  await stopSuiteRegistry(dir, registry);
});

const rows = (...args: string[]): Row[] => JSON.parse(raindOk(root, ['images', '--format', 'json', ...args]).stdout);
const names = (list: Row[]) => list.map((r) => `${r.Repository}:${r.Tag}`).sort();

describe('raind images filters', () => {
  test('without filters: every tag a row, the dangling image as <none>', () => {
    const h = registry.host;
    assert.deepEqual(
      names(rows()),
      [`${h}/test/app:2`, `${h}/test/busybox:1`, `${h}/test/busybox:old`, '<none>:<none>', 'busybox:latest', 'mine/busybox:7'].sort(),
    );
    assert.deepEqual(names(rows('-a')), names(rows()), '-a is accepted');
  });

  test('dangling=true and dangling=false', () => {
    const dangling = rows('--filter', 'dangling=true');
    assert.deepEqual(
      dangling.map((r) => [r.Id, r.Repository, r.Tag]),
      [[old.configDigest, '<none>', '<none>']],
    );
    const tagged = rows('--filter', 'dangling=false');
    assert.equal(tagged.length, 5);
    assert.ok(tagged.every((r) => r.Id !== old.configDigest));
    const table = raindOk(root, ['images', '-f', 'dangling=true']).stdout.trimEnd().split('\n');
    assert.equal(table.length, 2);
    assert.match(table[1] ?? '', new RegExp(`^<none>\\s+<none>\\s+${old.configDigest.slice(7, 19)}\\s`));
  });

  test('reference: docker glob on the familiar name, with or without the tag', () => {
    const h = registry.host;
    assert.deepEqual(names(rows('--filter', 'reference=busybox')), ['busybox:latest']);
    assert.deepEqual(names(rows('--filter', 'reference=*/busybox:*')), ['mine/busybox:7']);
    assert.deepEqual(names(rows('--filter', `reference=${h}/test/*`)), [`${h}/test/app:2`, `${h}/test/busybox:1`, `${h}/test/busybox:old`]);
    assert.deepEqual(names(rows('--filter', `reference=${h}/test/busybox`)), [`${h}/test/busybox:1`, `${h}/test/busybox:old`]);
    assert.deepEqual(names(rows('--filter', `reference=${h}/*`)), [], '* stops at a slash');
    assert.deepEqual(raindOk(root, ['images', '-q', '--filter', 'reference=mine/*']).stdout, `${b.configDigest.slice(7, 19)}\n`);
  });

  test('several reference= are ORed, other filters ANDed', () => {
    assert.deepEqual(names(rows('--filter', 'reference=busybox', '--filter', 'reference=mine/*')), ['busybox:latest', 'mine/busybox:7']);
    assert.deepEqual(names(rows('--filter', 'reference=busybox', '--filter', 'dangling=false')), ['busybox:latest']);
    assert.deepEqual(rows('--filter', 'reference=busybox', '--filter', 'dangling=true'), []);
  });

  test('an unknown filter or a bad value is a one-line usage error naming it', () => {
    const r = raind(root, ['images', '--filter', 'label=x']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^raind: images: unknown filter "label"[^\n]*\n$/);
    const d = raind(root, ['images', '--filter', 'dangling=yes']);
    assert.notEqual(d.code, 0);
    assert.match(d.stderr, /^raind: images: filter dangling must be true or false, not "yes"\n$/);
    const p = raind(root, ['images', '--filter', 'reference=[a']);
    assert.notEqual(p.code, 0);
    assert.match(p.stderr, /^raind: images: filter reference: bad pattern "\[a": a "\[" is not closed\n$/);
  });

  test('--digests: a DIGEST column, the digest inspect shows in RepoDigests', () => {
    const lines = raindOk(root, ['images', '--digests']).stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$/);
    const h = registry.host;
    for (const [ref, image] of [
      [`${h}/test/busybox:1`, a],
      [`${h}/test/app:2`, b],
    ] as const) {
      const [info] = JSON.parse(raindOk(root, ['inspect', ref]).stdout);
      const repoDigest: string = info.RepoDigests[0];
      const digest = repoDigest.slice(repoDigest.indexOf('@') + 1);
      assert.equal(digest, image.manifestDigest);
      const [repo, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
      const line = lines.find((l) => l.split(/\s+/)[0] === repo && l.split(/\s+/)[1] === tag);
      assert.ok(line, `a row for ${ref}`);
      assert.equal(line.split(/\s+/)[2], digest);
      assert.equal(line.split(/\s+/)[3], image.configDigest.slice(7, 19));
    }
    for (const name of ['busybox latest', 'mine/busybox 7']) {
      const line = lines.find((l) => l.split(/\s+/).slice(0, 2).join(' ') === name);
      assert.equal(line?.split(/\s+/)[2], '<none>', `${name}: a tag of a repository without a digest shows none, not another's`);
    }
    const dangling = lines.find((l) => l.startsWith('<none>'));
    assert.equal(dangling?.split(/\s+/)[2], old.manifestDigest, 'the dangling image keeps its digest');
    assert.equal(rows('--filter', 'dangling=true')[0]?.Digest, old.manifestDigest);
  });
});

describe('raind images --digests rows', () => {
  test("one digest a row: each of the row's repository's, or <none>", async () => {
    const h = registry.host;
    const own = join(dir, 'root-digests');
    const index = await pushIndex(registry, 'test/multi', 'all');
    /* one image, pulled by its manifest and by its index: two digests in one repository */
    raindOk(own, ['pull', '-q', `${h}/test/multi:amd64`]);
    raindOk(own, ['pull', '-q', `${h}/test/multi:all`]);
    raindOk(own, ['tag', `${h}/test/multi:all`, 'mine/multi:1']);
    const [info] = JSON.parse(raindOk(own, ['inspect', 'mine/multi:1']).stdout);
    assert.deepEqual(info.RepoDigests, [`${h}/test/multi@${index.amd64.manifestDigest}`, `${h}/test/multi@${index.digest}`]);
    const table = (...args: string[]) =>
      raindOk(own, ['images', ...args])
        .stdout.trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/).slice(0, 3).join(' '))
        .sort();
    const [m, i] = [index.amd64.manifestDigest, index.digest];
    assert.deepEqual(
      table('--digests'),
      [
        `${h}/test/multi all ${m}`,
        `${h}/test/multi all ${i}`,
        `${h}/test/multi amd64 ${m}`,
        `${h}/test/multi amd64 ${i}`,
        'mine/multi 1 <none>',
      ].sort(),
    );
    const id = index.amd64.configDigest.slice(7, 19);
    assert.deepEqual(
      table(),
      [`${h}/test/multi all ${id}`, `${h}/test/multi amd64 ${id}`, `mine/multi 1 ${id}`].sort(),
      'a row a tag without --digests',
    );
    const json: Row[] = JSON.parse(raindOk(own, ['images', '--digests', '--format', 'json']).stdout);
    assert.deepEqual(
      json.map((r) => `${r.Repository}:${r.Tag} ${r.Digest}`).sort(),
      [
        `${h}/test/multi:all ${m}`,
        `${h}/test/multi:all ${i}`,
        `${h}/test/multi:amd64 ${m}`,
        `${h}/test/multi:amd64 ${i}`,
        'mine/multi:1 ',
      ].sort(),
    );
    assert.equal(raindOk(own, ['images', '--digests', '-q']).stdout, `${id}\n`);
  });
});

describe('raind --runroot', () => {
  test('an absolute path is accepted', () => {
    const r = raindOk(root, ['--runroot', join(dir, 'run'), 'images', '-q']);
    assert.equal(r.stderr, '');
    raindOk(root, [`--runroot=${join(dir, 'run')}`, 'images', '-q']);
  });
  test('a relative path or none is refused', () => {
    const r = raind(root, ['--runroot', 'run/raind', 'images']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'raind: --runroot must be an absolute path, not "run/raind"\n');
    const none = raind(root, ['--runroot']);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /^raind: option --runroot needs a value\n$/);
  });
});
