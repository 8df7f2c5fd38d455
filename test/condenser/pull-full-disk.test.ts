import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeTar } from '../helpers/layer-tar.js';
import { raind, raindOk } from '../helpers/raind.js';
import { stopSuiteRegistry, TestRegistry } from '../helpers/registry.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let dir: string;
let registry: TestRegistry;
let root: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'raind-full-'));
  root = join(dir, 'root');
  mkdirSync(root);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', root]);
  registry = new TestRegistry(join(dir, 'registry'));
  await registry.start();
});
after(async () => {
  if (root) execFileSync('umount', [root]);
  await stopSuiteRegistry(dir, registry);
});

async function pushRandom(repo: string, bytes: number): Promise<string> {
  /* random bytes, uncompressed: as large in the blob as on disk */
  const tar = await makeTar([{ name: 'big', content: randomBytes(bytes) }]);
  const layer = await registry.pushBlob(repo, tar);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(tar)] } }),
  );
  const configDigest = await registry.pushBlob(repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: tar.length }],
    }),
  );
  await registry.pushManifest(repo, '1', 'application/vnd.oci.image.manifest.v1+json', manifest);
  return `${registry.host}/${repo}:1`;
}

function failsCleanly(ref: string, where: RegExp): void {
  const r = raind(root, ['pull', ref]);
  assert.notEqual(r.code, 0);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('raind:'));
  assert.equal(errors.length, 1, r.stderr);
  assert.ok(r.stderr.endsWith(`${errors[0]}\n`), 'the error comes last');
  assert.match(
    errors[0] ?? '',
    new RegExp(`^raind: pull ${ref}: layer sha256:[0-9a-f]{64}: writing ${root}/${where.source}: no space left on device \\(ENOSPC\\)$`),
  );
  assert.doesNotMatch(r.stderr, /Retrying/, 'a full disk is not retried');
  assert.deepEqual(JSON.parse(raindOk(root, ['images', '--format', 'json']).stdout), []);
  const left = (d: string) => (existsSync(join(root, d)) ? readdirSync(join(root, d)) : []);
  assert.deepEqual(left('blobs/sha256'), [], 'no blob');
  assert.deepEqual(left('layers'), [], 'no layer');
  assert.deepEqual(left('tmp'), [], 'no partial download or unpack');
  assert.deepEqual(
    readdirSync(root).filter((n) => !['blobs', 'layers', 'tmp', 'locks', 'images.json'].includes(n)),
    [],
  );
}

test('a layer larger than the disk fails the download with one ENOSPC error and leaves no image, layer or blob', async () => {
  failsCleanly(await pushRandom('test/big', 3 << 20), /tmp\/blob-[0-9a-f]{64}\.partial/);
});

test('a layer that fits the disk as a blob but not unpacked fails with one ENOSPC error and leaves nothing', async () => {
  failsCleanly(await pushRandom('test/unpack', 700 << 10), /(tmp|layers)\/\S+/);
});
