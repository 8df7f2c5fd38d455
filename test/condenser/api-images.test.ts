import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeSelfSigned } from '../helpers/pki.js';
import { type ApiServer, startApiServer } from '../helpers/api-server.js';
import { makeRootfs } from '../helpers/bundle.js';
import { type TestEngine, makeTestEngine, removeTestEngine } from '../helpers/engine.js';
import { TestRegistry, startSuiteRegistry, stopSuiteRegistry } from '../helpers/registry.js';
import { type PushedImage, pushBusybox } from '../helpers/test-image.js';

let engine: TestEngine;
let server: ApiServer;
let dir: string;
let registry: TestRegistry;
let image: PushedImage;
let ref: string;
let rootfsTar: Buffer;

before(async () => {
  engine = makeTestEngine('raind-api-images-');
  ({ dir, registry } = await startSuiteRegistry('raind-api-images-reg-'));
  image = await pushBusybox(registry, 'test/busybox', '1');
  await pushBusybox(registry, 'test/other', '1', { marker: 'other' });
  ref = `${registry.host}/test/busybox:1`;
  const rootfs = mkdtempSync(join(tmpdir(), 'raind-api-images-rootfs-'));
  try {
    makeRootfs(rootfs);
    rootfsTar = execFileSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 64 << 20 });
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
  server = await startApiServer(engine);
});

after(async () => {
  await server?.stop();
  if (engine) removeTestEngine(engine);
  await stopSuiteRegistry(dir, registry);
});

/** A raw request with curl: the status and the body. */
function curl(method: string, path: string, opts: { headers?: string[]; input?: Buffer } = {}): { status: number; body: string } {
  const args = ['-sS', '--unix-socket', server.socket, '-X', method, '-o', '-', '-w', '\n%{http_code}'];
  for (const h of opts.headers ?? []) args.push('-H', h);
  if (opts.input) args.push('--data-binary', '@-', '-H', 'Content-Type: application/x-tar');
  args.push(`http://raind/v1.43${path}`);
  const r = spawnSync('curl', args, { encoding: 'utf8', ...(opts.input ? { input: opts.input } : {}), maxBuffer: 64 << 20 });
  const cut = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
}

/** A shell pipeline with the server's docker environment. */
function sh(script: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', script], { encoding: 'utf8', env: server.env, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (body: string) =>
  body
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { status?: string; id?: string; progressDetail?: { current?: number; total?: number }; error?: string });

describe('the image endpoints with the docker CLI', () => {
  test('pull as docker\'s JSON progress stream: per layer, the digest, then "Downloaded newer image"', () => {
    const auth = Buffer.from(JSON.stringify({ username: '', password: '', serveraddress: registry.host })).toString('base64url');
    const r = curl('POST', `/images/create?fromImage=${registry.host}/test/other&tag=1`, { headers: [`X-Registry-Auth: ${auth}`] });
    assert.equal(r.status, 200, r.body);
    const msgs = lines(r.body);
    assert.deepEqual(msgs[0], { status: 'Pulling from test/other', id: '1' });
    const statuses = msgs.map((m) => m.status);
    for (const s of ['Pulling fs layer', 'Downloading', 'Download complete', 'Extracting', 'Pull complete'])
      assert.ok(statuses.includes(s), `${s} in ${statuses.join(', ')}`);
    const downloading = msgs.find((m) => m.status === 'Downloading');
    assert.equal(typeof downloading?.progressDetail?.current, 'number');
    assert.ok((downloading?.progressDetail?.total ?? 0) > 0);
    assert.match(statuses.at(-2) ?? '', /^Digest: sha256:[0-9a-f]{64}$/);
    assert.equal(statuses.at(-1), `Status: Downloaded newer image for ${registry.host}/test/other:1`);
    assert.match(engine.ok(['images']).stdout, new RegExp(`${registry.host}/test/other +1 `));
  });

  test('docker pull from the local (plain http) registry: progress, exit 0, the image in raind images', () => {
    const pulled = server.dockerOk(['pull', ref]);
    assert.match(pulled.stdout, /1: Pulling from test\/busybox\n/);
    assert.match(pulled.stdout, /Pull complete\n/);
    assert.match(pulled.stdout, new RegExp(`Digest: ${image.manifestDigest}\n`));
    assert.match(pulled.stdout, new RegExp(`Status: Downloaded newer image for ${registry.host}/test/busybox:1\n${ref}\n$`));
    assert.match(engine.ok(['images']).stdout, new RegExp(`${registry.host}/test/busybox +1 +${image.configDigest.slice(7, 19)}`));
    const again = server.dockerOk(['pull', ref]);
    assert.match(again.stdout, new RegExp(`Status: Image is up to date for ${ref}\n`));
    /* localhost is insecure (plain http) as 127.0.0.0/8 is, as docker has it */
    const local = `localhost:${registry.port}/test/busybox:1`;
    assert.match(server.dockerOk(['pull', local]).stdout, new RegExp(`Status: Downloaded newer image for ${local}\n`));
    assert.equal(server.dockerOk(['rmi', local]).stdout, `Untagged: ${local}\n`);
  });

  test('a registry on 127.0.0.1 over https with a certificate no one trusts: insecure, as docker has it', async () => {
    const tls = new TestRegistry(join(dir, 'tls'));
    try {
      await tls.start();
      const pushed = await pushBusybox(tls, 'tls/busybox', '1', { marker: 'tls' });
      await tls.stop();
      const pki = join(dir, 'pki');
      makeSelfSigned(pki, 'server');
      await tls.start({ tls: { certificate: join(pki, 'server-cert.pem'), key: join(pki, 'server-key.pem') } });
      const secured = `${tls.host}/tls/busybox:1`;
      assert.match(server.dockerOk(['pull', secured]).stdout, new RegExp(`Digest: ${pushed.manifestDigest}\n`));
      server.dockerOk(['tag', secured, `${tls.host}/tls/copy:1`]);
      assert.match(server.dockerOk(['push', `${tls.host}/tls/copy:1`]).stdout, new RegExp(`1: digest: ${pushed.manifestDigest} `));
      server.dockerOk(['rmi', secured, `${tls.host}/tls/copy:1`]);
      /* raind's own pull verifies the certificate, as podman's does */
      assert.notEqual(engine.run(['pull', '-q', secured]).code, 0);
    } finally {
      await tls.stop();
    }
  });

  test('pull errors: a malformed reference 400, an unknown repository 404, both before any stream', () => {
    const bad = curl('POST', '/images/create?fromImage=Bad..Name&tag=1');
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message, /invalid reference/);
    const unknown = curl('POST', `/images/create?fromImage=${registry.host}/test/nope&tag=1`);
    assert.equal(unknown.status, 404, unknown.body);
    const cli = server.docker(['pull', `${registry.host}/test/nope:1`]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /Error response from daemon: .*not found/);
    assert.equal(curl('POST', '/images/create').status, 400);
    assert.equal(curl('POST', `/images/create?fromImage=${registry.host}/test/busybox&tag=1&platform=nonsense`).status, 400);
  });

  test('a failure once the stream has begun: an errorDetail line last, and docker pull exits 1', async () => {
    const broken = await pushBusybox(registry, 'test/broken', '1', { marker: 'broken' });
    rmSync(registry.blobData(broken.layerDigest));
    const r = curl('POST', `/images/create?fromImage=${registry.host}/test/broken&tag=1`);
    assert.equal(r.status, 200, r.body);
    const msgs = lines(r.body);
    assert.deepEqual(msgs[0], { status: 'Pulling from test/broken', id: '1' });
    assert.match(msgs.at(-1)?.error ?? '', /not found/);
    const cli = server.docker(['pull', `${registry.host}/test/broken:1`]);
    assert.equal(cli.code, 1);
    assert.match(cli.stdout, /Pulling fs layer/);
    assert.match(cli.stderr, /not found/);
    assert.doesNotMatch(engine.ok(['images']).stdout, /broken/);
  });

  test("X-Registry-Auth: the docker CLI's credentials for a registry with basic authentication, pull and push", async () => {
    const secured = new TestRegistry(join(dir, 'secured'));
    try {
      await secured.start();
      await pushBusybox(secured, 'secret/busybox', '1', { marker: 'secret' });
      await secured.stop();
      const htpasswd = join(dir, 'htpasswd');
      execFileSync('htpasswd', ['-Bbc', htpasswd, 'alice', 's3cret pass'], { stdio: 'ignore' });
      await secured.start({ htpasswd });
      const secret = `${secured.host}/secret/busybox:1`;
      const refused = server.docker(['pull', secret]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /Error response from daemon: .*requires a user name and password/);

      const config = join(server.env.DOCKER_CONFIG as string, 'config.json');
      mkdirSync(server.env.DOCKER_CONFIG as string, { recursive: true });
      writeFileSync(config, JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from('alice:s3cret pass').toString('base64') } } }));
      try {
        assert.match(server.dockerOk(['pull', secret]).stdout, /Status: Downloaded newer image/);
        server.dockerOk(['tag', secret, `${secured.host}/secret/copy:1`]);
        assert.match(server.dockerOk(['push', `${secured.host}/secret/copy:1`]).stdout, /1: digest: sha256:/);
        assert.match(server.dockerOk(['rmi', secret]).stdout, /Untagged/);
        server.dockerOk(['rmi', `${secured.host}/secret/copy:1`]);
      } finally {
        rmSync(config, { force: true });
      }
    } finally {
      await secured.stop();
    }
  });

  test('docker images (with --filter), docker image inspect, docker history', () => {
    const listed = server.dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    assert.match(listed.stdout, new RegExp(`${registry.host}/test/busybox:1 ${image.configDigest.slice(7, 19)}`));
    const refd = server.dockerOk(['images', '--filter', 'reference=*/test/busybox:*', '--format', '{{.Repository}}']);
    assert.equal(refd.stdout, `${registry.host}/test/busybox\n`);

    const raw = curl('GET', '/images/json');
    assert.equal(raw.status, 200);
    const summary = JSON.parse(raw.body).find((i: { Id: string }) => i.Id === image.configDigest);
    assert.deepEqual(Object.keys(summary).sort(), [
      'Containers',
      'Created',
      'Id',
      'Labels',
      'ParentId',
      'RepoDigests',
      'RepoTags',
      'SharedSize',
      'Size',
      'VirtualSize',
    ]);
    assert.equal(summary.Created, Date.parse('2024-01-02T03:04:05Z') / 1000);
    /* the localhost pull's digest stays with its tag gone, as docker keeps it */
    assert.deepEqual(summary.RepoDigests, [
      `${registry.host}/test/busybox@${image.manifestDigest}`,
      `localhost:${registry.port}/test/busybox@${image.manifestDigest}`,
    ]);

    const inspect = server.dockerOk(['image', 'inspect', ref, '--format', '{{.Id}} {{.Os}} {{json .RepoTags}} {{json .Config.Cmd}}']);
    assert.equal(inspect.stdout, `${image.configDigest} linux ["${ref}"] ["/bin/sh"]\n`);
    /* docker inspect without --type asks for a container first, then an image */
    assert.equal(server.dockerOk(['inspect', '--format', '{{.Id}}', ref]).stdout, `${image.configDigest}\n`);
    const missing = server.docker(['image', 'inspect', 'nope:1']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: nope:1/);
    const unknown = curl('GET', '/images/nope:1/json');
    assert.equal(unknown.status, 404);
    assert.deepEqual(JSON.parse(unknown.body), { message: 'No such image: nope:1' });

    const history = server.dockerOk(['history', '--no-trunc', '--format', '{{.ID}} {{.CreatedBy}}', ref]);
    assert.equal(history.stdout, `${image.configDigest} test\n`);
  });

  test('docker import (fromSrc=-), and a retagged import left dangling: --filter dangling, image prune', () => {
    const first = server.dockerOk(['import', '--change', 'CMD ["/bin/sh"]', '-', 'imported:1'], { input: rootfsTar }).stdout.trim();
    assert.match(first, /^sha256:[0-9a-f]{64}$/);
    const second = server
      .dockerOk(['import', '--change', 'LABEL x=y', '--message', 'the second', '-', 'imported:1'], { input: rootfsTar })
      .stdout.trim();
    assert.notEqual(first, second);
    assert.equal(server.dockerOk(['history', '--format', '{{.Comment}}', 'imported:1']).stdout, 'the second\n');
    const dangling = server.dockerOk(['images', '-q', '--no-trunc', '--filter', 'dangling=true']);
    assert.equal(dangling.stdout, `${first}\n`);
    const labelled = server.dockerOk(['images', '-q', '--no-trunc', '--filter', 'label=x=y']);
    assert.equal(labelled.stdout, `${second}\n`);
    const pruned = server.dockerOk(['image', 'prune', '-f']);
    assert.match(pruned.stdout, new RegExp(`deleted: ${first}\n`));
    assert.match(pruned.stdout, /Total reclaimed space: /);
    assert.equal(server.dockerOk(['images', '-q', '--filter', 'dangling=true']).stdout, '');
    assert.match(server.dockerOk(['images']).stdout, /imported +1 /);
  });

  test('docker tag and push to the local registry: progress, then the tag, digest and size', async () => {
    const target = `${registry.host}/copy/busybox:2`;
    server.dockerOk(['tag', ref, target]);
    const pushed = server.dockerOk(['push', target]);
    assert.match(pushed.stdout, new RegExp(`The push refers to repository \\[${registry.host}/copy/busybox\\]\n`));
    assert.match(pushed.stdout, new RegExp(`${image.layerDigest.slice(7, 19)}: (Pushed|Mounted from test/busybox)\n`));
    assert.match(pushed.stdout, new RegExp(`2: digest: ${image.manifestDigest} size: ${image.manifestSize}\n`));
    const res = await fetch(`http://${registry.host}/v2/copy/busybox/manifests/2`, {
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-content-digest'), image.manifestDigest);
    const again = server.dockerOk(['push', target]);
    assert.match(again.stdout, /Layer already exists\n/);
    const unknown = server.docker(['push', `${registry.host}/copy/nope:1`]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No such image/);
    assert.equal(curl('POST', `/images/${registry.host}/copy/busybox/tag`).status, 400, 'tag without repo');
    assert.equal(curl('POST', '/images/nope:1/tag?repo=x&tag=1').status, 404);
  });

  test('docker save | docker load, and with -o / -i files: the same image back', () => {
    const target = `${registry.host}/copy/busybox:2`;
    const file = join(engine.dir, 'saved.tar');
    server.dockerOk(['save', '-o', file, target]);
    assert.ok(existsSync(file));
    assert.match(server.dockerOk(['rmi', target]).stdout, new RegExp(`Untagged: ${target}\n`));
    const loaded = server.dockerOk(['load', '-i', file]);
    assert.equal(loaded.stdout, `Loaded image: ${target}\n`);
    assert.equal(server.dockerOk(['image', 'inspect', target, '--format', '{{.Id}}']).stdout, `${image.configDigest}\n`);

    const piped = sh(`docker save ${target} imported:1 | docker load`);
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stdout, new RegExp(`Loaded image: ${target}\n`));
    assert.match(piped.stdout, /Loaded image: imported:1\n/);

    const missing = server.docker(['save', '-o', join(engine.dir, 'none.tar'), 'nope:1']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: nope:1/);
    const bad = curl('POST', '/images/load', { input: Buffer.from('not a tar archive at all'.repeat(40)) });
    assert.equal(bad.status, 400, bad.body);
    rmSync(file);
  });

  test('docker rmi: untag, delete, 409 naming the container that uses it, 404 for an unknown image', () => {
    const extra = `${registry.host}/copy/busybox:extra`;
    server.dockerOk(['tag', ref, extra]);
    assert.equal(server.dockerOk(['rmi', extra]).stdout, `Untagged: ${extra}\n`);

    server.dockerOk(['create', '--pull', 'never', '--name', 'api-images-user', 'imported:1', 'true']);
    const used = server.docker(['rmi', 'imported:1']);
    assert.equal(used.code, 1);
    assert.match(used.stderr, /api-images-user/);
    const raw = curl('DELETE', '/images/imported:1');
    assert.equal(raw.status, 409);
    /* forced, as docker: the name goes, the image stays for the container */
    const id = server.dockerOk(['image', 'inspect', 'imported:1', '--format', '{{.Id}}']).stdout.trim();
    assert.equal(server.dockerOk(['rmi', '-f', 'imported:1']).stdout, 'Untagged: imported:1\n');
    assert.equal(server.dockerOk(['images', '-q', '--no-trunc', '--filter', 'dangling=true']).stdout, `${id}\n`);
    server.dockerOk(['rm', 'api-images-user']);
    server.dockerOk(['tag', id, 'imported:1']);
    const removed = server.dockerOk(['rmi', 'imported:1']);
    assert.equal(removed.stdout, `Untagged: imported:1\nDeleted: ${id}\n`);

    const unknown = server.docker(['rmi', 'nope:1']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No such image: nope:1/);
  });

  test("docker system df, and its JSON in docker's shape", () => {
    server.dockerOk(['create', '--pull', 'never', '--name', 'api-images-df', ref, 'echo']);
    engine.ok(['volume', 'create', 'api-images-vol']);
    try {
      const df = server.dockerOk(['system', 'df']);
      /* test/busybox and copy/busybox are one image, test/other another; the container uses the first */
      assert.match(df.stdout, /^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE\nImages +2 +1 /);
      assert.match(df.stdout, /\nContainers +1 +0 /);
      assert.match(df.stdout, /\nLocal Volumes +1 +0 /);
      assert.match(df.stdout, /\nBuild Cache +0 +0 /);
      const raw = curl('GET', '/system/df');
      assert.equal(raw.status, 200);
      const body = JSON.parse(raw.body);
      assert.deepEqual(Object.keys(body).sort(), ['BuildCache', 'Containers', 'Images', 'LayersSize', 'Volumes']);
      assert.ok(body.LayersSize > 0);
      assert.deepEqual(body.BuildCache, []);
      const used = body.Images.find((i: { Id: string }) => i.Id === image.configDigest);
      assert.equal(used.Containers, 1);
      assert.equal(used.SharedSize, 0, 'test/other has a layer of its own');
      assert.equal(body.Containers[0].Names[0], '/api-images-df');
      assert.equal(typeof body.Containers[0].SizeRw, 'number');
      assert.equal(body.Volumes[0].Name, 'api-images-vol');
      assert.deepEqual(body.Volumes[0].UsageData, { Size: 0, RefCount: 0 });
    } finally {
      server.dockerOk(['rm', 'api-images-df']);
      engine.ok(['volume', 'rm', 'api-images-vol']);
    }
  });

  test('docker image prune -a removes every image no container uses', () => {
    const pruned = server.dockerOk(['image', 'prune', '-a', '-f']);
    assert.match(pruned.stdout, new RegExp(`untagged: ${ref}\n`));
    assert.equal(server.dockerOk(['images', '-q']).stdout, '');
    assert.equal(engine.ok(['images', '-q']).stdout, '');
  });
});
