import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { accessSync, constants, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSuiteRegistry, stopSuiteRegistry, type TestRegistry } from '../helpers/registry.js';
import { RAIND, raind, raindOk } from '../helpers/raind.js';
import { type PushedImage, pushBusybox, pushIndex } from '../helpers/test-image.js';

let dir: string;
let registry: TestRegistry;
let image: PushedImage;
let ref: string;

before(async () => {
  ({ dir, registry } = await startSuiteRegistry('raind-pull-'));
  image = await pushBusybox(registry, 'test/busybox', '1');
  ref = `${registry.host}/test/busybox:1`;
});
after(async () => {
  await stopSuiteRegistry(dir, registry);
});

let roots = 0;
const newRoot = () => join(dir, `root${roots++}`);
const list = (d: string) => (existsSync(d) ? readdirSync(d) : []);
const hex = (d: string) => d.slice('sha256:'.length);
/** everything a store holds, to compare before and after a failed command */
const contents = (root: string) => ({
  blobs: list(join(root, 'blobs/sha256')).sort(),
  layers: list(join(root, 'layers')).sort(),
  tmp: list(join(root, 'tmp')),
  images: existsSync(join(root, 'images.json')) ? readFileSync(join(root, 'images.json'), 'utf8') : null,
});

describe('raind pull from a local registry', () => {
  test('pull, images, inspect: the digest skopeo reports, /bin/busybox unpacked and executable', () => {
    const root = newRoot();
    const pulled = raindOk(root, ['pull', ref]);
    assert.equal(pulled.stdout.trim(), image.configDigest, 'pull prints the image id');

    const [head = '', first = ''] = raindOk(root, ['images']).stdout.split('\n');
    assert.match(head, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.match(
      first,
      new RegExp(`^${registry.host}/test/busybox\\s+1\\s+${hex(image.configDigest).slice(0, 12)}\\s+\\d+ \\w+ ago\\s+[\\d.]+MB$`),
    );
    const json = JSON.parse(raindOk(root, ['image', 'ls', '--format', 'json']).stdout);
    assert.equal(json.length, 1);
    assert.equal(json[0].Repository, `${registry.host}/test/busybox`);
    assert.equal(json[0].Tag, '1');
    assert.equal(json[0].Id, image.configDigest);

    const skopeo = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' }));
    assert.equal(skopeo.Digest, image.manifestDigest);
    const [info] = JSON.parse(raindOk(root, ['image', 'inspect', ref]).stdout);
    assert.equal(info.Id, image.configDigest);
    assert.deepEqual(info.RepoTags, [ref]);
    assert.deepEqual(info.RepoDigests, [`${registry.host}/test/busybox@${skopeo.Digest}`]);
    assert.equal(info.Os, 'linux');
    assert.equal(info.Architecture, 'amd64');
    assert.equal(info.Created, '2024-01-02T03:04:05Z');
    assert.deepEqual(info.Config.Cmd, ['/bin/sh']);
    assert.deepEqual(info.RootFS, { Type: 'layers', Layers: [image.diffId] });
    assert.deepEqual(
      JSON.parse(raindOk(root, ['inspect', hex(image.configDigest).slice(0, 12)]).stdout)[0].Id,
      image.configDigest,
      'by short id',
    );

    /* one layer: its chain ID is its diff ID */
    const layer = join(root, 'layers', hex(image.diffId));
    const busybox = join(layer, 'bin/busybox');
    accessSync(busybox, constants.X_OK);
    assert.equal(statSync(busybox).mode & 0o777, 0o755);
    assert.equal(statSync(join(layer, 'tmp')).mode & 0o7777, 0o1777);
    assert.equal(execFileSync(join(layer, 'bin/echo'), ['hello'], { encoding: 'utf8' }), 'hello\n', 'the symlink to busybox runs');
    for (const d of [image.manifestDigest, image.configDigest, image.layerDigest])
      assert.ok(existsSync(join(root, 'blobs/sha256', hex(d))), d);
    assert.deepEqual(list(join(root, 'tmp')), [], 'nothing left half-written');

    /* a second pull fetches the manifest again, and no blob */
    const gets = registry.blobGets();
    assert.ok(gets >= 2, 'the registry log shows the first pull');
    const again = raindOk(root, ['image', 'pull', ref]);
    assert.equal(registry.blobGets(), gets, 'no blob downloaded again');
    assert.match(again.stderr, /Already exists/);
    assert.doesNotMatch(again.stderr, /downloaded/);
    assert.equal(JSON.parse(raindOk(root, ['images', '--format', 'json']).stdout).length, 1);
  });

  test('an unknown tag is a clear 404 error, and the store is unchanged', () => {
    const root = newRoot();
    raindOk(root, ['pull', ref]);
    const before = contents(root);
    const r = raind(root, ['pull', `${registry.host}/test/busybox:nope`]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^raind: pull ${registry.host}/test/busybox:nope: manifest ${registry.host}/test/busybox:nope: not found \\(manifest unknown\\)\n$`,
      ),
    );
    assert.deepEqual(contents(root), before);
    const missing = raind(root, ['pull', `${registry.host}/test/nothing:1`]);
    assert.match(missing.stderr, /^raind: pull .*\/test\/nothing:1: manifest .*: not found \(.*unknown.*\)\n$/);
  });

  test('a blob whose bytes do not match its digest fails the pull and leaves no blob, layer or image', async () => {
    const root = newRoot();
    const bad = await pushBusybox(registry, 'test/tampered', '1', { created: '2024-05-05T00:00:00Z', marker: 'tampered' });
    /* same length, other bytes: the size matches, the digest does not */
    const data = registry.blobData(bad.layerDigest);
    const bytes = readFileSync(data);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 100) ^ 0xff, bytes.length - 100);
    writeFileSync(data, bytes);
    const r = raind(root, ['pull', '-q', `${registry.host}/test/tampered:1`]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      new RegExp(
        `^raind: pull ${registry.host}/test/tampered:1: layer ${bad.layerDigest}: digest mismatch: the content received has digest sha256:[0-9a-f]{64}\\n$`,
      ),
    );
    assert.deepEqual(contents(root), { blobs: [], layers: [], tmp: [], images: null });

    /* a short blob: the size check */
    writeFileSync(data, bytes.subarray(0, bytes.length - 10));
    const short = raind(root, ['pull', `${registry.host}/test/tampered:1`]);
    assert.match(short.stderr, /layer sha256:[0-9a-f]{64}: size mismatch: \d+ bytes received, the manifest gives \d+/);
    assert.deepEqual(contents(root), { blobs: [], layers: [], tmp: [], images: null });
  });

  test('tag, rmi by tag untags, rmi of the last name removes the image and its blobs and layers', () => {
    const root = newRoot();
    raindOk(root, ['pull', ref]);
    raindOk(root, ['tag', ref, 'mine/busybox:x']);
    const [info] = JSON.parse(raindOk(root, ['image', 'inspect', 'mine/busybox:x']).stdout);
    assert.deepEqual(info.RepoTags.sort(), [ref, 'mine/busybox:x'].sort());
    const byId = raind(root, ['rmi', hex(image.configDigest).slice(0, 12)]);
    assert.notEqual(byId.code, 0, 'an id with several names needs force');
    assert.match(byId.stderr, /has several names/);

    assert.equal(raindOk(root, ['rmi', 'mine/busybox:x']).stdout, 'Untagged: mine/busybox:x\n');
    assert.equal(list(join(root, 'layers')).length, 1, 'still held by the other name');

    const out = raindOk(root, ['image', 'rm', ref]).stdout;
    assert.match(out, new RegExp(`Untagged: ${ref}\\n`));
    assert.match(out, new RegExp(`Deleted: ${image.configDigest}\\n`));
    assert.deepEqual(contents(root), { blobs: [], layers: [], tmp: [], images: '{\n  "version": 1,\n  "images": []\n}\n' });
    assert.equal(raindOk(root, ['images']).stdout, 'REPOSITORY   TAG   IMAGE ID   CREATED   SIZE\n');

    const gone = raind(root, ['rmi', ref]);
    assert.notEqual(gone.code, 0);
    assert.equal(gone.stderr, `raind: image "${ref}" not found\n`);
  });

  test('an index: the host platform by default, another with --platform, a clear error for a missing one', async () => {
    const index = await pushIndex(registry, 'test/multi', 'v1');
    const name = `${registry.host}/test/multi:v1`;
    const root = newRoot();
    assert.equal(raindOk(root, ['pull', '-q', name]).stdout.trim(), index.amd64.configDigest);
    const [info] = JSON.parse(raindOk(root, ['inspect', name]).stdout);
    assert.equal(info.Architecture, 'amd64');
    assert.deepEqual(
      info.RepoDigests,
      [`${registry.host}/test/multi@${index.digest}`],
      'the digest of the index that was pulled, as docker',
    );

    const arm = newRoot();
    assert.equal(raindOk(arm, ['pull', '-q', '--platform', 'linux/arm64', name]).stdout.trim(), index.arm64.configDigest);
    assert.equal(readFileSync(join(arm, 'layers', hex(index.arm64.diffId), 'etc/marker'), 'utf8'), 'arm64');

    const none = newRoot();
    const r = raind(none, ['pull', '--platform', 'linux/s390x', name]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /^raind: pull .*: index sha256:[0-9a-f]{64}: no image for platform linux\/s390x \(the index offers linux\/arm64\/v8, linux\/amd64\)\n$/,
    );
    assert.deepEqual(contents(none), { blobs: [], layers: [], tmp: [], images: null });
  });

  test('a zstd layer: the executable (Bun) has zstd in node:zlib', async () => {
    const z = await pushBusybox(registry, 'test/zstd', '1', { marker: 'zstd' });
    const root = newRoot();
    assert.equal(raindOk(root, ['pull', '-q', `${registry.host}/test/zstd:1`]).stdout.trim(), z.configDigest);
    const layer = join(root, 'layers', hex(z.diffId));
    assert.equal(readFileSync(join(layer, 'etc/marker'), 'utf8'), 'zstd');
    accessSync(join(layer, 'bin/busybox'), constants.X_OK);
  });

  test('pulls running at once on one store serialise on its lock', async () => {
    const root = newRoot();
    const run = () => promisify(execFile)(RAIND, ['--root', root, 'pull', '-q', ref], { encoding: 'utf8' });
    const results = await Promise.all([run(), run(), run()]);
    for (const r of results) assert.equal(r.stdout.trim(), image.configDigest);
    const images = JSON.parse(raindOk(root, ['images', '--format', 'json']).stdout);
    assert.equal(images.length, 1);
    assert.deepEqual(list(join(root, 'layers')), [hex(image.diffId)]);
    assert.deepEqual(list(join(root, 'tmp')), []);
  });

  test('bad input: one line naming what and why, nothing stored', () => {
    const root = newRoot();
    const cases: [string[], RegExp][] = [
      [['pull', 'Bad/Name'], /^raind: invalid reference "Bad\/Name": repository name "Name" must be lowercase\n$/],
      [['pull', '--platform', 'linux', ref], /^raind: invalid platform "linux": expected os\/arch\[\/variant\]\n$/],
      [['pull'], /^raind: pull: expected one image reference\n$/],
      [['image', 'frob'], /^raind: unknown command "image frob"\n$/],
      [['inspect', 'nothing:here'], /^raind: image "nothing:here" not found\n$/],
      [
        ['pull', '-q', '127.0.0.1:9/x/y:1'],
        /^raind: pull 127\.0\.0\.1:9\/x\/y:1: manifest 127\.0\.0\.1:9\/x\/y:1: cannot reach http:\/\/127\.0\.0\.1:9\/v2\/x\/y\/manifests\/1: \S+/,
      ],
    ];
    for (const [args, error] of cases) {
      const r = raind(root, args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, error);
    }
    assert.deepEqual(list(join(root, 'blobs/sha256')), []);
  });
});
