import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Engine } from '../../src/condenser/engine.js';
import { type TarEntry, makeTar } from '../helpers/layer-tar.js';
import { raindOk } from '../helpers/raind.js';
import { startSuiteRegistry, stopSuiteRegistry, type TestRegistry } from '../helpers/registry.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Pushes an image of the given layers (lowest first), each a gzip tar. */
async function pushLayers(registry: TestRegistry, repo: string, tag: string, layers: TarEntry[][]): Promise<void> {
  const diffIds: string[] = [];
  const descriptors: object[] = [];
  for (const entries of layers) {
    const tar = await makeTar(entries);
    const blob = gzipSync(tar);
    diffIds.push(sha(tar));
    descriptors.push({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: await registry.pushBlob(repo, blob),
      size: blob.length,
    });
  }
  const config = Buffer.from(
    JSON.stringify({
      created: '2024-01-02T03:04:05Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );
  const configDigest = await registry.pushBlob(repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: descriptors,
    }),
  );
  await registry.pushManifest(repo, tag, 'application/vnd.oci.image.manifest.v1+json', manifest);
}

const mountinfo = () => readFileSync('/proc/self/mountinfo', 'utf8');

let dir: string;
let registry: TestRegistry;
const mounted: string[] = [];

before(async () => {
  ({ dir, registry } = await startSuiteRegistry('raind-overlay-'));
});
after(async () => {
  const engine = new Engine({ root: join(dir, 'root') });
  for (const d of mounted) engine.unmountImage(d);
  await stopSuiteRegistry(dir, registry);
});

describe('overlay snapshots of images', () => {
  test('two layers: merged/ is their union without the whited-out file; writes land in diff/ only; unmount leaves nothing', async () => {
    await pushLayers(registry, 'test/two', '1', [
      [
        { name: 'etc/', type: 'directory' },
        { name: 'etc/keep', content: 'kept\n' },
        { name: 'etc/gone', content: 'deleted above\n' },
      ],
      [
        { name: 'etc/', type: 'directory' },
        { name: 'etc/.wh.gone', content: '' },
        { name: 'etc/added', content: 'added\n' },
      ],
    ]);
    const root = join(dir, 'root');
    raindOk(root, ['pull', `${registry.host}/test/two:1`]);
    const engine = new Engine({ root });
    const container = join(dir, 'containers', 'c1');
    mounted.push(container);
    const dirs = await engine.mountImage(`${registry.host}/test/two:1`, container);
    assert.equal(dirs.merged, join(container, 'merged'));
    assert.match(mountinfo(), new RegExp(` ${dirs.merged} .* - overlay overlay `));
    assert.deepEqual(readdirSync(join(dirs.merged, 'etc')).sort(), ['added', 'keep']);
    assert.equal(readFileSync(join(dirs.merged, 'etc/keep'), 'utf8'), 'kept\n');
    assert.equal(readFileSync(join(dirs.merged, 'etc/added'), 'utf8'), 'added\n');

    writeFileSync(join(dirs.merged, 'etc/written'), 'new\n');
    assert.equal(readFileSync(join(dirs.diff, 'etc/written'), 'utf8'), 'new\n');
    for (const layer of readdirSync(join(root, 'layers')))
      assert.ok(!existsSync(join(root, 'layers', layer, 'etc/written')), `layer ${layer} unchanged`);
    await assert.rejects(engine.mountImage(`${registry.host}/test/two:1`, container), /is mounted already/);

    engine.unmountImage(container);
    assert.ok(!mountinfo().includes(container), 'nothing left mounted');
    assert.deepEqual(readdirSync(container), [], 'diff/, work/ and merged/ removed');
    assert.ok(existsSync(join(root, 'layers')), 'the layers stay');
  });

  test('125 layers mount in one call through short links; a path that leaves no room is refused clearly', async () => {
    const layers: TarEntry[][] = [];
    for (let i = 0; i < 125; i++) layers.push([{ name: `f${i}`, content: `${i}\n` }]);
    await pushLayers(registry, 'test/many', '1', layers);
    const root = join(dir, 'root');
    raindOk(root, ['pull', `${registry.host}/test/many:1`]);
    const engine = new Engine({ root });
    const container = join(dir, 'containers', 'c2');
    mounted.push(container);
    const dirs = await engine.mountImage(`${registry.host}/test/many:1`, container);
    const names = readdirSync(dirs.merged);
    assert.equal(names.length, 125);
    assert.equal(readFileSync(join(dirs.merged, 'f0'), 'utf8'), '0\n');
    assert.equal(readFileSync(join(dirs.merged, 'f124'), 'utf8'), '124\n');
    assert.ok(readdirSync(join(root, 'l')).every((n) => /^[A-Z2-7]{26}$/.test(n)));
    engine.unmountImage(container);
    assert.ok(!mountinfo().includes(container));

    const deep = join(dir, 'containers', 'x'.repeat(200), 'y'.repeat(200));
    mkdirSync(deep, { recursive: true });
    await assert.rejects(
      engine.mountImage(`${registry.host}/test/many:1`, deep),
      /^Error: mount image .*test\/many:1: its 125 layers do not fit in overlayfs' mount options \(\d+ bytes, at most 4095\)$/,
    );
    assert.deepEqual(readdirSync(deep), [], 'nothing made');
    assert.ok(!mountinfo().includes(deep));
  });
});
