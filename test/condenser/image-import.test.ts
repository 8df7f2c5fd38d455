import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { RAIND, raind, raindOk } from '../helpers/raind.js';

let dir: string;
let rootfsTar: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'raind-import-'));
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  writeFileSync(join(rootfs, 'bin/busybox'), readFileSync('/bin/busybox'), { mode: 0o755 });
  symlinkSync('busybox', join(rootfs, 'bin/sh'));
  mkdirSync(join(rootfs, 'etc'));
  writeFileSync(join(rootfs, 'etc/hostname'), 'imported\n');
  rootfsTar = join(dir, 'rootfs.tar');
  execFileSync('tar', ['-cf', rootfsTar, '-C', rootfs, '.']);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const contents = (root: string) => ({
  blobs: existsSync(join(root, 'blobs/sha256')) ? readdirSync(join(root, 'blobs/sha256')).sort() : [],
  layers: existsSync(join(root, 'layers')) ? readdirSync(join(root, 'layers')).sort() : [],
  tmp: existsSync(join(root, 'tmp')) ? readdirSync(join(root, 'tmp')) : [],
  images: existsSync(join(root, 'images.json')) ? readFileSync(join(root, 'images.json'), 'utf8') : null,
});

describe('raind image import', () => {
  test('a rootfs tar becomes a one-layer image with the changes in its config', () => {
    const root = join(dir, 'root1');
    const r = raindOk(root, [
      'image',
      'import',
      '--change',
      'CMD ["/bin/sh", "-c", "echo hi"]',
      '--change',
      'ENV GREETING="hello world" MODE=test',
      '--change',
      'WORKDIR /srv',
      '--change',
      'ENTRYPOINT ["/bin/busybox"]',
      rootfsTar,
      'imported/fs:1',
    ]);
    const id = r.stdout.trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const [info] = JSON.parse(raindOk(root, ['inspect', 'imported/fs:1']).stdout);
    assert.equal(info.Id, id);
    assert.deepEqual(info.RepoTags, ['imported/fs:1']);
    assert.deepEqual(info.Config.Cmd, ['/bin/sh', '-c', 'echo hi']);
    assert.deepEqual(info.Config.Entrypoint, ['/bin/busybox']);
    assert.deepEqual(info.Config.Env, ['GREETING=hello world', 'MODE=test']);
    assert.equal(info.Config.WorkingDir, '/srv');
    assert.equal(info.Os, 'linux');
    const diffId = sha(readFileSync(rootfsTar));
    assert.deepEqual(info.RootFS.Layers, [diffId], 'the diff ID is the digest of the tar as given');
    const layer = join(root, 'layers', diffId.slice(7));
    assert.equal(readFileSync(join(layer, 'etc/hostname'), 'utf8'), 'imported\n');
    assert.equal(execFileSync(join(layer, 'bin/sh'), ['-c', 'echo ok'], { encoding: 'utf8' }), 'ok\n');

    /* config, manifest and a gzip layer blob, each under its digest */
    const record = JSON.parse(readFileSync(join(root, 'images.json'), 'utf8')).images[0];
    const manifest = JSON.parse(readFileSync(join(root, 'blobs/sha256', record.manifestDigest.slice(7)), 'utf8'));
    assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(manifest.config.digest, id);
    const [l] = manifest.layers;
    assert.equal(l.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    const blob = readFileSync(join(root, 'blobs/sha256', l.digest.slice(7)));
    assert.equal(sha(blob), l.digest);
    assert.equal(blob.length, l.size);
    assert.equal(sha(readFileSync(join(root, 'blobs/sha256', id.slice(7)))), id);
    assert.match(raindOk(root, ['history', 'imported/fs:1']).stdout, /raind import .*Imported from /);
  });

  test('from stdin, gzip-compressed, without a name: a dangling image with the same layer', () => {
    const root = join(dir, 'root2');
    const r = spawnSync(RAIND, ['--root', root, 'import', '-'], { input: gzipSync(readFileSync(rootfsTar)), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(raindOk(root, ['images', '--format', 'json']).stdout);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].Id, r.stdout.trim());
    assert.equal(rows[0].Repository, '<none>');
    assert.deepEqual(readdirSync(join(root, 'layers')), [sha(readFileSync(rootfsTar)).slice(7)]);
  });

  test('a bad change, a name with a digest, or input that is no tar: one-line errors, the store unchanged', () => {
    const root = join(dir, 'root3');
    raindOk(root, ['import', rootfsTar, 'keep:1']);
    const before = contents(root);
    const bad = raind(root, ['import', '--change', 'RUN make', rootfsTar, 'x:1']);
    assert.notEqual(bad.code, 0);
    assert.equal(
      bad.stderr,
      'raind: change "RUN make": RUN is not one of CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, STOPSIGNAL, VOLUME\n',
    );
    const json = raind(root, ['import', '--change', 'CMD ["a", 1]', rootfsTar]);
    assert.match(json.stderr, /^raind: change "CMD \["a", 1\]": not a JSON list of strings\n$/);
    const digest = raind(root, ['import', rootfsTar, `x@sha256:${'a'.repeat(64)}`]);
    assert.match(digest.stderr, /cannot hold a digest/);
    const text = join(dir, 'not-a-tar');
    writeFileSync(text, 'hello, this is no tar archive at all\n'.repeat(20));
    const notTar = raind(root, ['import', text, 'x:1']);
    assert.notEqual(notTar.code, 0);
    assert.equal(notTar.stderr.trim().split('\n').length, 1, notTar.stderr);
    assert.match(notTar.stderr, /^raind: import: /);
    const missing = raind(root, ['import', join(dir, 'nope.tar')]);
    assert.match(missing.stderr, /^raind: import: .*nope\.tar: ENOENT/);
    assert.deepEqual(contents(root), before);
  });
});
