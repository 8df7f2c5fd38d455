import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSuiteRegistry, stopSuiteRegistry, type TestRegistry } from '../helpers/registry.js';
import { raindOk } from '../helpers/raind.js';
import { pushBusybox, pushIndex } from '../helpers/test-image.js';

let dir: string;
let registry: TestRegistry;

before(async () => {
  ({ dir, registry } = await startSuiteRegistry('raind-docker-'));
});
after(async () => {
  await stopSuiteRegistry(dir, registry);
});

let roots = 0;
const newRoot = () => join(dir, `root${roots++}`);
const hex = (d: string) => d.slice('sha256:'.length);
const skopeo = (...args: string[]) => execFileSync('skopeo', [...args], { encoding: 'utf8', maxBuffer: 16 << 20 });

describe('Docker schema 2 images', () => {
  test('a schema 2 manifest with a gzip rootfs.diff layer: pulled, the digest skopeo reports, the layer unpacked', async () => {
    const image = await pushBusybox(registry, 'test/docker', '1', { marker: 'docker', docker: true });
    const ref = `${registry.host}/test/docker:1`;
    const raw = JSON.parse(skopeo('inspect', '--tls-verify=false', '--raw', `docker://${ref}`));
    assert.equal(raw.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(raw.config.mediaType, 'application/vnd.docker.container.image.v1+json');
    assert.equal(raw.layers[0].mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    const info = JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${ref}`));
    assert.equal(info.Digest, image.manifestDigest);

    const root = newRoot();
    assert.equal(raindOk(root, ['pull', '-q', ref]).stdout.trim(), image.configDigest);
    const [inspect] = JSON.parse(raindOk(root, ['inspect', ref]).stdout);
    assert.equal(inspect.Id, image.configDigest);
    assert.deepEqual(inspect.RepoDigests, [`${registry.host}/test/docker@${info.Digest}`]);
    assert.deepEqual(inspect.RootFS, { Type: 'layers', Layers: [image.diffId] });
    const layer = join(root, 'layers', hex(image.diffId));
    accessSync(join(layer, 'bin/busybox'), constants.X_OK);
    assert.equal(readFileSync(join(layer, 'etc/marker'), 'utf8'), 'docker');
    /* the manifest is stored byte for byte, under the digest skopeo reports */
    assert.equal(
      createHash('sha256')
        .update(readFileSync(join(root, 'blobs/sha256', hex(info.Digest))))
        .digest('hex'),
      hex(info.Digest),
    );
  });

  test('a Docker manifest list over two platforms: the host one by default, --platform the other', async () => {
    const list = await pushIndex(registry, 'test/dockerlist', 'v1', true);
    const ref = `${registry.host}/test/dockerlist:v1`;
    const rawText = skopeo('inspect', '--tls-verify=false', '--raw', `docker://${ref}`);
    const raw = JSON.parse(rawText);
    assert.equal(raw.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
    assert.equal(`sha256:${createHash('sha256').update(rawText).digest('hex')}`, list.digest, 'the list digest skopeo reads');
    assert.deepEqual(
      raw.manifests.map((m: { digest: string }) => m.digest),
      [list.arm64.manifestDigest, list.amd64.manifestDigest],
    );

    const root = newRoot();
    assert.equal(raindOk(root, ['pull', '-q', ref]).stdout.trim(), list.amd64.configDigest);
    const [amd] = JSON.parse(raindOk(root, ['inspect', ref]).stdout);
    assert.equal(amd.Architecture, 'amd64');
    assert.deepEqual(amd.RepoDigests, [`${registry.host}/test/dockerlist@${list.digest}`]);
    assert.equal(readFileSync(join(root, 'layers', hex(list.amd64.diffId), 'etc/marker'), 'utf8'), 'amd64');
    const amdInfo = JSON.parse(skopeo('inspect', '--tls-verify=false', '--override-arch', 'amd64', `docker://${ref}`));
    assert.equal(amdInfo.Digest, list.digest);

    const arm = newRoot();
    assert.equal(raindOk(arm, ['pull', '-q', '--platform', 'linux/arm64', ref]).stdout.trim(), list.arm64.configDigest);
    const [armInfo] = JSON.parse(raindOk(arm, ['inspect', ref]).stdout);
    assert.equal(armInfo.Architecture, 'arm64');
    assert.equal(readFileSync(join(arm, 'layers', hex(list.arm64.diffId), 'etc/marker'), 'utf8'), 'arm64');
    accessSync(join(arm, 'layers', hex(list.arm64.diffId), 'bin/busybox'), constants.X_OK);
  });
});
