import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestRegistry } from '../helpers/registry.js';
import { raind, raindOk } from '../helpers/raind.js';
import { type PushedImage, pushBusybox } from '../helpers/test-image.js';

let dir: string;
let a: TestRegistry;
let b: TestRegistry;
let image: PushedImage;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'raind-push-'));
  a = new TestRegistry(join(dir, 'a'));
  b = new TestRegistry(join(dir, 'b'));
  await a.start();
  await b.start();
  image = await pushBusybox(a, 'test/busybox', '1');
});
after(async () => {
  await a?.stop();
  await b?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** blob uploads a registry has accepted so far (its access log) */
const uploads = (r: TestRegistry) =>
  readFileSync(r.logFile, 'utf8')
    .split('\n')
    .filter((l) => /"PUT \/v2\/[^ ]+\/blobs\/uploads\//.test(l) && /" 201 /.test(l)).length;
const skopeoInspect = (ref: string) =>
  JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' }));

describe('raind push to a local registry', () => {
  test('pull from A, tag for B, push: B serves the same manifest digest; a second push uploads no blob', () => {
    const root = join(dir, 'root');
    raindOk(root, ['pull', '-q', `${a.host}/test/busybox:1`]);
    const target = `${b.host}/copy/busybox:v2`;
    raindOk(root, ['tag', `${a.host}/test/busybox:1`, target]);

    const first = raindOk(root, ['image', 'push', target]);
    assert.equal(first.stdout, `${image.manifestDigest}\n`, 'push prints the manifest digest');
    assert.match(first.stderr, new RegExp(`layer ${image.layerDigest}: pushed\\n`));
    assert.match(first.stderr, new RegExp(`config ${image.configDigest}: pushed\\n`));
    assert.equal(uploads(b), 2, 'the config and the one layer');

    const info = skopeoInspect(target);
    assert.equal(info.Digest, image.manifestDigest);
    assert.deepEqual(info.Layers, [image.layerDigest]);

    const second = raindOk(root, ['push', target]);
    assert.equal(second.stdout, `${image.manifestDigest}\n`);
    assert.equal(uploads(b), 2, 'no blob uploaded again');
    assert.doesNotMatch(second.stderr, /pushed/);
    assert.match(second.stderr, /already exists/);

    /* another repository of B: blobs are per repository, so they go up again */
    raindOk(root, ['tag', target, `${b.host}/other/busybox:1`]);
    raindOk(root, ['push', '-q', `${b.host}/other/busybox:1`]);
    assert.equal(uploads(b), 4);
    assert.equal(skopeoInspect(`${b.host}/other/busybox:1`).Digest, image.manifestDigest);

    /* what was pushed pulls back into a new store as the same image */
    const back = join(dir, 'back');
    assert.equal(raindOk(back, ['pull', '-q', target]).stdout.trim(), image.configDigest);

    /* pulled from B, pushed to another repository of B: the blobs are mounted, not sent */
    raindOk(back, ['tag', target, `${b.host}/third/busybox:1`]);
    const mounted = raindOk(back, ['push', `${b.host}/third/busybox:1`]);
    assert.equal(uploads(b), 4, 'no bytes uploaded');
    assert.match(mounted.stderr, new RegExp(`layer ${image.layerDigest}: mounted from copy/busybox\n`));
    assert.match(mounted.stderr, new RegExp(`config ${image.configDigest}: mounted from copy/busybox\n`));
    assert.equal(skopeoInspect(`${b.host}/third/busybox:1`).Digest, image.manifestDigest);
  });

  test('an image not in the store, or an unreachable registry: one-line errors, nothing sent', () => {
    const root = join(dir, 'root2');
    const missing = raind(root, ['push', `${b.host}/nothing/here:1`]);
    assert.notEqual(missing.code, 0);
    assert.equal(missing.stderr, `raind: push ${b.host}/nothing/here:1: image "${b.host}/nothing/here:1" not found\n`);

    raindOk(root, ['pull', '-q', `${a.host}/test/busybox:1`]);
    raindOk(root, ['tag', `${a.host}/test/busybox:1`, '127.0.0.1:1/x/y:1']);
    const before = readFileSync(join(root, 'images.json'), 'utf8');
    const down = raind(root, ['push', '127.0.0.1:1/x/y:1']);
    assert.notEqual(down.code, 0);
    assert.equal(down.stderr.trim().split('\n').length, 1, down.stderr);
    assert.match(
      down.stderr,
      /^raind: push 127\.0\.0\.1:1\/x\/y:1: blob sha256:[0-9a-f]{64} of 127\.0\.0\.1:1\/x\/y: cannot reach http:\/\/127\.0\.0\.1:1\/v2\/: /,
    );
    assert.equal(readFileSync(join(root, 'images.json'), 'utf8'), before, 'the store is unchanged');
    assert.deepEqual(existsSync(join(root, 'tmp')) ? readdirSync(join(root, 'tmp')) : [], []);
  });
});
