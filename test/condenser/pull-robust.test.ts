import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { REPO, testEnv } from '../helpers/droplet.js';
import { makeTar } from '../helpers/layer-tar.js';
import { FaultyProxy } from '../helpers/proxy.js';
import { RAIND } from '../helpers/raind.js';
import { startSuiteRegistry, stopSuiteRegistry, type TestRegistry } from '../helpers/registry.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const ESC = String.fromCharCode(27);
const hex = (d: string) => d.slice('sha256:'.length);
const list = (d: string) => (existsSync(d) ? readdirSync(d) : []);

interface Pushed {
  id: string;
  layers: { digest: string; size: number; diffId: string }[];
}

/** An image of `count` layers, each a file of `size` random (incompressible) bytes. */
async function pushRandom(registry: TestRegistry, repo: string, count: number, size: number): Promise<Pushed> {
  const layers: Pushed['layers'] = [];
  for (let i = 0; i < count; i++) {
    const tar = await makeTar([{ name: `data${i}`, content: randomBytes(size) }]);
    const gz = gzipSync(tar, { level: 1 });
    layers.push({ digest: await registry.pushBlob(repo, gz), size: gz.length, diffId: sha(tar) });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    }),
  );
  const id = await registry.pushBlob(repo, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: id, size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
  };
  await registry.pushManifest(repo, 'v1', manifest.mediaType, Buffer.from(JSON.stringify(manifest)));
  return { id, layers };
}

/** An image of one uncompressed layer, `diffId` what its config gives (the real one by
 * default): an archive whose bytes unpack whole before its digest can be checked. */
async function pushPlain(registry: TestRegistry, repo: string, diffId?: (real: string) => string): Promise<Pushed> {
  const tar = await makeTar([{ name: 'data', content: randomBytes(256 << 10) }]);
  const layer = { digest: await registry.pushBlob(repo, tar), size: tar.length, diffId: sha(tar) };
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId?.(layer.diffId) ?? layer.diffId] } }),
  );
  const id = await registry.pushBlob(repo, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: id, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.size }],
  };
  await registry.pushManifest(repo, 'v1', manifest.mediaType, Buffer.from(JSON.stringify(manifest)));
  return { id, layers: [layer] };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** raind in the background: the proxy lives in this process and must keep serving. */
function raindAsync(root: string, args: string[], onSpawn?: (pid: number) => void): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(RAIND, ['--root', root, ...args], { env: testEnv() });
    if (p.pid !== undefined) onSpawn?.(p.pid);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
let registry: TestRegistry;
let proxy: FaultyProxy;
let image: Pushed;
let small: Pushed;
let roots = 0;
const newRoot = () => join(dir, `root${roots++}`);

before(async () => {
  ({ dir, registry } = await startSuiteRegistry('raind-pullx-'));
  image = await pushRandom(registry, 'test/big', 5, 1 << 20);
  small = await pushRandom(registry, 'test/small', 2, 64 << 10);
  proxy = new FaultyProxy(registry.host);
  await proxy.start();
});
after(async () => {
  await proxy?.stop();
  await stopSuiteRegistry(dir, registry);
});

/** the store holds the image, whole: each blob's bytes match its digest, each layer unpacked */
function assertPulled(root: string, img: Pushed) {
  const images = JSON.parse(readFileSync(join(root, 'images.json'), 'utf8')).images;
  assert.ok(images.some((i: { id: string }) => i.id === img.id));
  for (const l of img.layers) {
    assert.equal(sha(readFileSync(join(root, 'blobs/sha256', hex(l.digest)))), l.digest);
  }
  assert.deepEqual(list(join(root, 'tmp')), [], 'nothing left half-written');
}

describe('pull robustness', () => {
  test('a transfer cut half-way is resumed with a Range request', async () => {
    proxy.seen.length = 0;
    const victim = image.layers[2]!;
    let cut = false;
    proxy.handle = (req, _res, forward) => {
      if (cut || !req.url?.endsWith(victim.digest)) return false;
      cut = true;
      forward({ cutAfter: Math.floor(victim.size / 2) });
      return true;
    };
    const root = newRoot();
    const r = await raindAsync(root, ['pull', '-q', `${proxy.host}/test/big:v1`]);
    proxy.handle = undefined;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), image.id);
    const gets = proxy.blobGets(victim.digest);
    assert.equal(gets.length, 2, 'one cut transfer, one resumed');
    assert.equal(gets[0]?.range, undefined);
    const from = Number(/^bytes=(\d+)-$/.exec(gets[1]?.range ?? '')?.[1]);
    assert.ok(from > 0 && from <= Math.floor(victim.size / 2), `resumed from ${gets[1]?.range}`);
    assertPulled(root, image);
  });

  test('a registry that ignores Range: the whole blob again, the partial bytes dropped', async () => {
    proxy.seen.length = 0;
    const victim = image.layers[1]!;
    let cut = false;
    proxy.handle = (req, _res, forward) => {
      if (!req.url?.endsWith(victim.digest)) return false;
      if (!cut) {
        cut = true;
        forward({ cutAfter: Math.floor(victim.size / 3) });
      } else {
        Reflect.deleteProperty(req.headers, 'range');
        forward({});
      }
      return true;
    };
    const root = newRoot();
    const r = await raindAsync(root, ['pull', '-q', `${proxy.host}/test/big:v1`]);
    proxy.handle = undefined;
    assert.equal(r.code, 0, r.stderr);
    const gets = proxy.blobGets(victim.digest);
    assert.equal(gets.length, 2);
    assert.match(gets[1]?.range ?? '', /^bytes=\d+-$/, 'asked for a range, got the whole blob');
    assertPulled(root, image);
  });

  test('503 twice, then the blob: the pull retries and succeeds', async () => {
    proxy.seen.length = 0;
    const victim = small.layers[0]!;
    let failures = 0;
    proxy.handle = (req, res) => {
      if (failures >= 2 || !req.url?.endsWith(victim.digest)) return false;
      failures++;
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"busy"}]}');
      return true;
    };
    const root = newRoot();
    const r = await raindAsync(root, ['pull', '-q', `${proxy.host}/test/small:v1`]);
    proxy.handle = undefined;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), small.id);
    assert.equal(proxy.blobGets(victim.digest).length, 3);
    assertPulled(root, small);
  });

  test('a registry that stays unavailable: a bounded number of tries, one error line, the store as it was', async () => {
    proxy.seen.length = 0;
    const victim = small.layers[1]!;
    proxy.handle = (req, res) => {
      if (!req.url?.endsWith(victim.digest)) return false;
      res.writeHead(503).end();
      return true;
    };
    const root = newRoot();
    const r = await raindAsync(root, ['pull', '-q', `${proxy.host}/test/small:v1`]);
    proxy.handle = undefined;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`^raind: pull .*/test/small:v1: blob ${victim.digest} of .*: the registry answered HTTP 503\\n$`));
    assert.equal(proxy.blobGets(victim.digest).length, 5, 'the first try and 4 more');
    assert.deepEqual(list(join(root, 'blobs/sha256')), []);
    assert.deepEqual(list(join(root, 'layers')), []);
    assert.deepEqual(list(join(root, 'tmp')), []);
    assert.ok(!existsSync(join(root, 'images.json')) || JSON.parse(readFileSync(join(root, 'images.json'), 'utf8')).images.length === 0);
  });

  test('kill -9 mid-download, then pull again: the partial blob is resumed and the store is whole', async () => {
    proxy.seen.length = 0;
    const victim = image.layers[0]!;
    let pid = 0;
    let stalled = false;
    proxy.handle = (req, _res, forward) => {
      if (stalled || !req.url?.endsWith(victim.digest)) return false;
      stalled = true;
      forward({ stallAfter: Math.floor(victim.size / 2), onLimit: () => setTimeout(() => process.kill(pid, 'SIGKILL'), 300) });
      return true;
    };
    const root = newRoot();
    const killed = await raindAsync(root, ['pull', '-q', `${proxy.host}/test/big:v1`], (p) => {
      pid = p;
    });
    proxy.handle = undefined;
    assert.equal(killed.code, null, 'killed');
    assert.ok(list(join(root, 'tmp')).includes(`blob-${hex(victim.digest)}.partial`), 'the partial blob is kept');
    assert.ok(!existsSync(join(root, 'images.json')), 'no image recorded');
    const listed = spawnSync(RAIND, ['--root', root, 'images', '-q'], { encoding: 'utf8' });
    assert.equal(listed.stdout, '', 'nothing half-pulled shows as an image');

    const r = await raindAsync(root, ['pull', '-q', `${proxy.host}/test/big:v1`]);
    assert.equal(r.code, 0, r.stderr);
    const gets = proxy.blobGets(victim.digest);
    assert.match(gets.at(-1)?.range ?? '', /^bytes=[1-9]\d*-$/, 'the second pull resumes the partial blob');
    assertPulled(root, image);
    assert.deepEqual(list(join(root, 'locks')), [], 'no lock file left');
  });

  test('a digest or diff ID mismatch found while the layer streams in: nothing in place, nothing left', async () => {
    /* a file's bytes altered: the archive still unpacks whole, only the digest tells */
    const tampered = await pushPlain(registry, 'test/tampered-plain');
    const data = registry.blobData(tampered.layers[0]!.digest);
    const bytes = readFileSync(data);
    bytes.writeUInt8(bytes.readUInt8(1024) ^ 0xff, 1024);
    writeFileSync(data, bytes);
    await pushPlain(registry, 'test/wrong-diff', () => `sha256:${'0'.repeat(64)}`);
    for (const [repo, why] of [
      ['test/tampered-plain', /: digest mismatch: the content received has digest sha256:[0-9a-f]{64}\n$/],
      [
        'test/wrong-diff',
        /: diff ID mismatch: the uncompressed layer has digest sha256:[0-9a-f]{64}, the image config gives sha256:0{64}\n$/,
      ],
    ] as const) {
      const root = newRoot();
      const r = await raindAsync(root, ['pull', '-q', `${registry.host}/${repo}:v1`]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, why);
      assert.deepEqual(list(join(root, 'blobs/sha256')), [], `${repo}: no blob`);
      assert.deepEqual(list(join(root, 'layers')), [], `${repo}: no layer`);
      assert.deepEqual(list(join(root, 'tmp')), [], `${repo}: no partial blob or unpack`);
      assert.ok(!existsSync(join(root, 'images.json')) || JSON.parse(readFileSync(join(root, 'images.json'), 'utf8')).images.length === 0);
    }
  });

  test('kill -9 mid streaming unpack: the half-unpacked layer is never in place; prune removes the leftovers, a pull completes', async () => {
    const victim = image.layers[3]!;
    /* the fourth layer's chain ID, as the store names its directory */
    const chain = image.layers
      .slice(0, 4)
      .map((l) => l.diffId)
      .reduce((parent, diff) => sha(Buffer.from(`${parent} ${diff}`)));
    const killMidLayer = async (root: string) => {
      let pid = 0;
      let stalled = false;
      proxy.handle = (req, _res, forward) => {
        if (stalled || !req.url?.endsWith(victim.digest)) return false;
        stalled = true;
        forward({ stallAfter: Math.floor(victim.size / 2), onLimit: () => setTimeout(() => process.kill(pid, 'SIGKILL'), 300) });
        return true;
      };
      const killed = await raindAsync(root, ['pull', '-q', '--max-concurrent-downloads', '1', `${proxy.host}/test/big:v1`], (p) => {
        pid = p;
      });
      proxy.handle = undefined;
      assert.equal(killed.code, null, 'killed');
      const tmp = list(join(root, 'tmp'));
      assert.ok(tmp.includes(`blob-${hex(victim.digest)}.partial`), `the partial blob is kept: ${tmp}`);
      assert.ok(tmp.includes(`layer-${hex(chain)}`), `the layer was being unpacked as it downloaded: ${tmp}`);
      assert.ok(list(join(root, `tmp/layer-${hex(chain)}`)).length > 0, 'something of it was unpacked');
      assert.ok(!list(join(root, 'layers')).includes(hex(chain)), 'not in place');
      assert.ok(!list(join(root, 'blobs/sha256')).includes(hex(victim.digest)), 'its blob not in place');
    };

    const pruned = newRoot();
    await killMidLayer(pruned);
    const prune = spawnSync(RAIND, ['--root', pruned, 'image', 'prune', '-f'], { encoding: 'utf8', env: testEnv() });
    assert.equal(prune.status, 0, prune.stderr);
    assert.deepEqual(list(join(pruned, 'tmp')), [], 'prune removes what the killed pull left in tmp/');
    assert.deepEqual(list(join(pruned, 'layers')), []);
    assert.deepEqual(list(join(pruned, 'blobs/sha256')), []);

    const again = newRoot();
    await killMidLayer(again);
    const r = await raindAsync(again, ['pull', '-q', `${proxy.host}/test/big:v1`]);
    assert.equal(r.code, 0, r.stderr);
    assertPulled(again, image);
    assert.ok(list(join(again, 'layers')).includes(hex(chain)));
    const data = readFileSync(join(again, 'layers', hex(chain), 'data3'));
    assert.equal(data.length, 1 << 20, 'the layer unpacked whole from the resumed blob');
  });

  test('up to 3 downloads at once by default, 1 with --max-concurrent-downloads 1', async () => {
    /* each blob answer waits a little, so the downloads overlap */
    proxy.handle = (req, _res, forward) => {
      if (!/\/blobs\//.test(req.url ?? '')) return false;
      setTimeout(() => forward({}), 150);
      return true;
    };
    proxy.maxInFlight = 0;
    const root = newRoot();
    assert.equal((await raindAsync(root, ['pull', '-q', `${proxy.host}/test/big:v1`])).code, 0);
    assert.equal(proxy.maxInFlight, 3);
    proxy.maxInFlight = 0;
    const one = newRoot();
    assert.equal((await raindAsync(one, ['pull', '-q', '--max-concurrent-downloads', '1', `${proxy.host}/test/big:v1`])).code, 0);
    assert.equal(proxy.maxInFlight, 1);
    proxy.handle = undefined;
    assertPulled(one, image);
    const bad = await raindAsync(one, ['pull', '--max-concurrent-downloads', '0', `${proxy.host}/test/big:v1`]);
    assert.equal(bad.stderr, 'raind: pull: --max-concurrent-downloads must be a whole number from 1 to 64, not "0"\n');
  });

  test('two pulls of one image on one store download each blob once; of two images, together', async () => {
    proxy.seen.length = 0;
    proxy.handle = (req, _res, forward) => {
      if (!/\/blobs\//.test(req.url ?? '')) return false;
      setTimeout(() => forward({}), 100);
      return true;
    };
    const root = newRoot();
    const ref = `${proxy.host}/test/big:v1`;
    const [a, b] = await Promise.all([raindAsync(root, ['pull', '-q', ref]), raindAsync(root, ['pull', '-q', ref])]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    for (const l of image.layers) assert.equal(proxy.blobGets(l.digest).length, 1, `${l.digest} fetched once`);
    assertPulled(root, image);

    proxy.maxInFlight = 0;
    const other = newRoot();
    const [c, d] = await Promise.all([
      raindAsync(other, ['pull', '-q', '--max-concurrent-downloads', '1', ref]),
      raindAsync(other, ['pull', '-q', '--max-concurrent-downloads', '1', `${proxy.host}/test/small:v1`]),
    ]);
    proxy.handle = undefined;
    assert.equal(c.code, 0, c.stderr);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(proxy.maxInFlight, 2, 'both pulls downloaded at the same time');
    assertPulled(other, image);
    assertPulled(other, small);
    assert.equal(JSON.parse(readFileSync(join(other, 'images.json'), 'utf8')).images.length, 2);
  });
});

describe('pull progress', () => {
  const short = (d: string) => hex(d).slice(0, 12);

  test('not on a terminal: plain lines per layer; --quiet: only the id', async () => {
    const root = newRoot();
    const r = await raindAsync(root, ['pull', `${registry.host}/test/small:v1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${small.id}\n`);
    assert.ok(!r.stderr.includes('\x1b'), 'no terminal control');
    const lines = r.stderr.split('\n');
    for (const l of small.layers) {
      for (const status of ['Pulling fs layer', 'Download complete', 'Pull complete'])
        assert.equal(lines.filter((x) => x === `${short(l.digest)}: ${status}`).length, 1, `${short(l.digest)}: ${status}\n${r.stderr}`);
    }
    assert.match(r.stderr, /^digest: sha256:[0-9a-f]{64}$/m);
    const again = await raindAsync(root, ['pull', `${registry.host}/test/small:v1`]);
    for (const l of small.layers) assert.ok(again.stderr.split('\n').includes(`${short(l.digest)}: Already exists`), again.stderr);

    const quiet = await raindAsync(newRoot(), ['pull', '-q', `${registry.host}/test/small:v1`]);
    assert.equal(quiet.stdout, `${small.id}\n`);
    assert.equal(quiet.stderr, '');
  });

  test('on a terminal: a line per layer redrawn in place, a bar while downloading, Pull complete at the end', () => {
    const root = newRoot();
    const helper = join(REPO, 'test', 'helpers', 'pty-run.py');
    const r = spawnSync('python3', [helper, '24', '120', '', RAIND, '--root', root, 'pull', `${registry.host}/test/big:v1`], {
      encoding: 'utf8',
      env: testEnv(),
      timeout: 60_000,
    });
    assert.match(r.stdout, /EXIT 0\n$/, r.stdout);
    assert.match(r.stdout, new RegExp(`${ESC}\\[\\d+A`), 'the cursor moves up to redraw');
    /* the bar is drawn at once when a layer starts downloading, with whatever has arrived by
     * then (0B on a busy machine): any unit */
    assert.match(r.stdout, /\[=*>? *\] +[\d.]+[kMG]?B\/[\d.]+[kMG]?B/, 'a bar with the bytes');
    /* what the screen shows last: each layer's final line */
    const last = r.stdout.split('\x1b[2K');
    for (const l of image.layers) {
      assert.ok(r.stdout.includes(short(l.digest)));
      const final = last.filter((x) => x.startsWith(short(l.digest))).at(-1) ?? '';
      assert.match(final, new RegExp(`^${short(l.digest)}: Pull complete\\r?\\n`));
    }
  });
});
