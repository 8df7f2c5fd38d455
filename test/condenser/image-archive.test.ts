import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSuiteRegistry, stopSuiteRegistry, type TestRegistry } from '../helpers/registry.js';
import { RAIND, raind, raindOk } from '../helpers/raind.js';
import { type PushedImage, pushBusybox } from '../helpers/test-image.js';

let dir: string;
let registry: TestRegistry;
let image: PushedImage;
let ref: string;

before(async () => {
  ({ dir, registry } = await startSuiteRegistry('raind-archive-'));
  image = await pushBusybox(registry, 'test/busybox', '1');
  ref = `${registry.host}/test/busybox:1`;
});
after(async () => {
  await stopSuiteRegistry(dir, registry);
});

let n = 0;
const fresh = (what: string) => join(dir, `${what}${n++}`);
const hex = (d: string) => d.slice('sha256:'.length);
const skopeo = (...args: string[]) => execFileSync('skopeo', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const ids = (root: string) => JSON.parse(raindOk(root, ['images', '--format', 'json']).stdout).map((r: { Id: string }) => r.Id);
const busyboxIn = (root: string) => existsSync(join(root, 'layers', hex(image.diffId), 'bin/busybox'));

describe('raind save and load', () => {
  test('docker-archive: skopeo reads what raind saves; save, rmi, load gives the same image id and name', () => {
    const root = fresh('root');
    raindOk(root, ['pull', '-q', ref]);
    const file = fresh('busybox.tar');
    raindOk(root, ['image', 'save', '-o', file, ref]);
    const listing = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    assert.deepEqual(
      listing,
      [`${hex(image.configDigest)}.json`, `${hex(image.diffId)}/layer.tar`, 'manifest.json', 'repositories'].sort(),
    );

    const oci = fresh('oci');
    skopeo('copy', `docker-archive:${file}`, `oci:${oci}:x`);
    const copied = JSON.parse(skopeo('inspect', '--config', `oci:${oci}:x`));
    assert.deepEqual(copied.rootfs.diff_ids, [image.diffId], 'skopeo finds the layer and its diff ID');

    raindOk(root, ['rmi', ref]);
    assert.deepEqual(ids(root), []);
    const loaded = raindOk(root, ['load', '-i', file]);
    assert.equal(loaded.stdout, `Loaded image: ${ref}\n`);
    assert.deepEqual(ids(root), [image.configDigest], 'the same image id');
    assert.ok(busyboxIn(root), 'the layer unpacked again');
    const [info] = JSON.parse(raindOk(root, ['inspect', ref]).stdout);
    assert.deepEqual(info.RootFS.Layers, [image.diffId]);
    assert.deepEqual(info.Config.Cmd, ['/bin/sh']);
  });

  test('oci-archive: skopeo reads what raind saves; load into a new store gives the same id and manifest digest', () => {
    const root = fresh('root');
    raindOk(root, ['pull', '-q', ref]);
    const file = fresh('busybox-oci.tar');
    raindOk(root, ['save', '--format', 'oci-archive', '-o', file, ref]);
    const index = JSON.parse(execFileSync('tar', ['-xOf', file, 'index.json'], { encoding: 'utf8' }));
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0].digest, image.manifestDigest, 'the manifest as pulled');

    const oci = fresh('oci');
    skopeo('copy', `oci-archive:${file}`, `oci:${oci}:y`);
    assert.deepEqual(JSON.parse(skopeo('inspect', '--config', `oci:${oci}:y`)).rootfs.diff_ids, [image.diffId]);

    const other = fresh('root');
    /* from stdin */
    const r = spawnSync(RAIND, ['--root', other, 'image', 'load'], { input: readFileSync(file), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `Loaded image: ${ref}\n`);
    assert.deepEqual(ids(other), [image.configDigest]);
    assert.ok(busyboxIn(other));
    /* the same manifest: it pushes and pulls under the same digest */
    const stored = JSON.parse(readFileSync(join(other, 'images.json'), 'utf8')).images;
    assert.equal(stored[0].manifestDigest, image.manifestDigest);
  });

  test('raind loads the docker-archive and oci-archive skopeo makes from a registry', () => {
    const dockerFile = fresh('skopeo-docker.tar');
    skopeo('copy', '--src-tls-verify=false', `docker://${ref}`, `docker-archive:${dockerFile}:mine/busybox:d`);
    const root = fresh('root');
    assert.equal(raindOk(root, ['load', '-i', dockerFile]).stdout, 'Loaded image: mine/busybox:d\n');
    assert.deepEqual(ids(root), [image.configDigest]);
    assert.ok(busyboxIn(root));

    const ociFile = fresh('skopeo-oci.tar');
    skopeo('copy', '--src-tls-verify=false', `docker://${ref}`, `oci-archive:${ociFile}:mine/busybox:o`);
    const root2 = fresh('root');
    assert.equal(raindOk(root2, ['load', '-i', ociFile]).stdout, 'Loaded image: mine/busybox:o\n');
    assert.deepEqual(ids(root2), [image.configDigest]);
    assert.ok(busyboxIn(root2));
  });

  test('several images in one archive, to stdout or -o (the same bytes): both load back', () => {
    const root = fresh('root');
    raindOk(root, ['pull', '-q', ref]);
    const rootfs = fresh('rootfs');
    execFileSync('mkdir', ['-p', join(rootfs, 'etc')]);
    execFileSync('sh', ['-c', `echo two > ${join(rootfs, 'etc/two')}`]);
    const tarFile = `${rootfs}.tar`;
    execFileSync('tar', ['-cf', tarFile, '-C', rootfs, '.']);
    const second = raindOk(root, ['import', tarFile, 'second:1']).stdout.trim();
    for (const format of ['docker-archive', 'oci-archive']) {
      const r = spawnSync(RAIND, ['--root', root, 'save', '--format', format, ref, 'second:1'], { maxBuffer: 64 << 20 });
      assert.equal(r.status, 0, String(r.stderr));
      const file = fresh('both.tar');
      raindOk(root, ['save', '--format', format, '-o', file, ref, 'second:1']);
      assert.ok(readFileSync(file).equals(r.stdout), `${format}: stdout and -o write the same bytes`);
      const other = fresh('root');
      const loaded = raindOk(other, ['load', '-i', file]).stdout;
      assert.equal(loaded, `Loaded image: ${ref}\nLoaded image: second:1\n`, format);
      assert.deepEqual(ids(other).sort(), [image.configDigest, second].sort(), format);
      assert.ok(busyboxIn(other));
    }
  });

  test('a file that is no image archive, or one missing, fails in one line and leaves the store as it was', () => {
    const root = fresh('root');
    raindOk(root, ['pull', '-q', ref]);
    const before = readFileSync(join(root, 'images.json'), 'utf8');
    const blobs = readdirSync(join(root, 'blobs/sha256')).sort();
    const file = fresh('busybox.tar');
    raindOk(root, ['save', '-o', file, ref]);
    /* a layer that does not match the config's diff ID */
    const bad = fresh('bad');
    execFileSync('mkdir', [bad]);
    execFileSync('tar', ['-xf', file, '-C', bad]);
    execFileSync('sh', [
      '-c',
      `echo x > ${join(bad, 'extra')} && tar -cf ${join(bad, 'layer')} -C ${bad} extra && mv ${join(bad, 'layer')} ${join(bad, hex(image.diffId), 'layer.tar')}`,
    ]);
    execFileSync('tar', ['-cf', `${bad}.tar`, '-C', bad, '.']);
    const other = fresh('root');
    const r = raind(other, ['load', '-i', `${bad}.tar`]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^raind: load: layer .*: diff ID mismatch/);
    assert.deepEqual(existsSync(join(other, 'blobs/sha256')) ? readdirSync(join(other, 'blobs/sha256')) : [], []);
    assert.deepEqual(existsSync(join(other, 'tmp')) ? readdirSync(join(other, 'tmp')) : [], []);

    const none = raind(root, ['load', '-i', join(dir, 'no-such.tar')]);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /^raind: load: .*no-such\.tar: ENOENT/);
    const notTar = raind(root, ['load', '-i', join(root, 'images.json')]);
    assert.notEqual(notTar.code, 0);
    assert.equal(notTar.stderr.trim().split('\n').length, 1, notTar.stderr);
    assert.equal(readFileSync(join(root, 'images.json'), 'utf8'), before);
    assert.deepEqual(readdirSync(join(root, 'blobs/sha256')).sort(), blobs);

    const missing = raind(root, ['save', '-o', fresh('x.tar'), 'nothing:1']);
    assert.equal(missing.stderr, 'raind: image "nothing:1" not found\n');
  });
});
