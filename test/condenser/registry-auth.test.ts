import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { RegistryClient } from '../../src/condenser/registry/client.js';

/** A registry stand-in on 127.0.0.1 that asks for authentication as real ones do. */
type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;
let server: Server;
let host: string;
let handler: Handler;
const seen: { path: string; auth?: string }[] = [];

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    seen.push({ path: url.pathname + url.search, auth: req.headers.authorization });
    handler(req, res, url);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'1'.repeat(64)}`, size: 2 },
    layers: [],
  }),
);
const manifestDigest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

function sendManifest(res: ServerResponse, body = manifest, type = 'application/vnd.oci.image.manifest.v1+json') {
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length });
  res.end(body);
}
function deny(res: ServerResponse, challenge: string) {
  res.writeHead(401, { 'WWW-Authenticate': challenge, 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
}

/** Bearer flow: the token service hands out `token` for the credentials it is given. */
function bearerRegistry(tokenFor: (auth: string | undefined) => string | undefined): Handler {
  return (req, res, url) => {
    if (url.pathname === '/token') {
      assert.equal(url.searchParams.get('service'), 'test-registry');
      assert.equal(url.searchParams.get('scope'), 'repository:ns/app:pull');
      const token = tokenFor(req.headers.authorization);
      if (token === undefined) {
        res.writeHead(401);
        res.end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ token }));
      return;
    }
    const want = tokenFor(undefined) ?? tokenFor(basic('user', 'secret'));
    if (req.headers.authorization !== `Bearer ${want}`) {
      deny(res, `Bearer realm="http://${host}/token",service="test-registry",scope="repository:ns/app:pull"`);
      return;
    }
    if (url.pathname === `/v2/ns/app/blobs/sha256:${'b'.repeat(64)}`) {
      res.writeHead(200);
      res.end('blob bytes');
      return;
    }
    sendManifest(res);
  };
}

describe('registry client', () => {
  test('Bearer challenge, anonymous token: the manifest and a streamed blob', async () => {
    seen.length = 0;
    handler = bearerRegistry((auth) => (auth === undefined ? 'anon-token' : undefined));
    const client = new RegistryClient(host);
    const m = await client.getManifest('ns/app', 'v1');
    assert.equal(m.digest, manifestDigest);
    assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.deepEqual(
      seen.map((s) => s.path),
      ['/v2/ns/app/manifests/v1', '/token?service=test-registry&scope=repository%3Ans%2Fapp%3Apull', '/v2/ns/app/manifests/v1'],
    );
    assert.equal(seen[2]?.auth, 'Bearer anon-token');
    const chunks: Buffer[] = [];
    for await (const c of (await client.getBlob('ns/app', `sha256:${'b'.repeat(64)}`)).body) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'blob bytes');
    assert.equal(seen.length, 4, 'the token is kept for the next request');
  });

  test('Bearer challenge with credentials: the token service gets them as Basic', async () => {
    handler = bearerRegistry((auth) => (auth === basic('user', 'secret') ? 'user-token' : undefined));
    const m = await new RegistryClient(host, { credentials: { username: 'user', password: 'secret' } }).getManifest('ns/app', 'v1');
    assert.equal(m.digest, manifestDigest);
    await assert.rejects(
      new RegistryClient(host, { credentials: { username: 'user', password: 'wrong' } }).getManifest('ns/app', 'v1'),
      new RegExp(`^Error: manifest ${host}/ns/app:v1: the token service http://${host} answered HTTP 401$`),
    );
  });

  test('Basic authentication', async () => {
    handler = (req, res) => (req.headers.authorization === basic('u', 'p') ? sendManifest(res) : deny(res, 'Basic realm="Registry"'));
    assert.equal(
      (await new RegistryClient(host, { credentials: { username: 'u', password: 'p' } }).getManifest('ns/app', 'v1')).digest,
      manifestDigest,
    );
    await assert.rejects(new RegistryClient(host).getManifest('ns/app', 'v1'), /the registry requires a user name and password/);
    await assert.rejects(
      new RegistryClient(host, { credentials: { username: 'u', password: 'x' } }).getManifest('ns/app', 'v1'),
      /manifest .*: access denied \(HTTP 401: authentication required\)/,
    );
  });

  test('schema 1 is refused; a manifest fetched by digest must have it', async () => {
    const v1 = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'ns/app', tag: 'old', fsLayers: [] }));
    handler = (_req, res) => sendManifest(res, v1, 'application/vnd.docker.distribution.manifest.v1+prettyjws');
    await assert.rejects(
      new RegistryClient(host).getManifest('ns/app', 'old'),
      /manifest .*\/ns\/app:old: Docker schema 1 manifests are not supported/,
    );
    handler = (_req, res) => sendManifest(res);
    const other = `sha256:${'c'.repeat(64)}`;
    await assert.rejects(
      new RegistryClient(host).getManifest('ns/app', other),
      new RegExp(`manifest ${host}/ns/app@${other}: the registry sent content with digest ${manifestDigest}`),
    );
  });

  test('Accept names OCI and Docker schema 2, indexes and manifests', async () => {
    let accept = '';
    handler = (req, res) => {
      accept = String(req.headers.accept);
      sendManifest(res);
    };
    await new RegistryClient(host).getManifest('ns/app', 'v1');
    for (const t of [
      'application/vnd.oci.image.index.v1+json',
      'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.docker.distribution.manifest.list.v2+json',
      'application/vnd.docker.distribution.manifest.v2+json',
    ])
      assert.ok(accept.includes(t), t);
    assert.ok(!accept.includes('v1+prettyjws'));
  });

  test('login check: GET /v2/ with a Bearer token for no scope, or Basic; a refusal is clear', async () => {
    seen.length = 0;
    handler = (req, res, url) => {
      if (url.pathname === '/token') {
        const ok = req.headers.authorization === basic('user', 'secret');
        res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
        res.end(ok ? JSON.stringify({ token: 'login-token' }) : '');
      } else if (req.headers.authorization === 'Bearer login-token') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{}');
      } else deny(res, `Bearer realm="http://${host}/token",service="test-registry"`);
    };
    await new RegistryClient(host, { credentials: { username: 'user', password: 'secret' } }).checkLogin();
    assert.deepEqual(
      seen.map((s) => s.path),
      ['/v2/', '/token?service=test-registry', '/v2/'],
    );
    await assert.rejects(
      new RegistryClient(host, { credentials: { username: 'user', password: 'wrong' } }).checkLogin(),
      new RegExp(`^Error: login to ${host}: the token service http://${host} answered HTTP 401$`),
    );
    handler = (req, res) => (req.headers.authorization === basic('u', 'p') ? sendManifest(res) : deny(res, 'Basic realm="Registry"'));
    await new RegistryClient(host, { credentials: { username: 'u', password: 'p' } }).checkLogin();
    await assert.rejects(
      new RegistryClient(host, { credentials: { username: 'u', password: 'x' } }).checkLogin(),
      new RegExp(`^Error: login to ${host}: wrong user name or password \\(HTTP 401: authentication required\\)$`),
    );
  });

  test('a custom CA or --tls-verify=false is refused under Node, naming why', async () => {
    handler = (_req, res) => sendManifest(res);
    await assert.rejects(
      new RegistryClient(host, { tlsVerify: false }).getManifest('ns/app', 'v1'),
      /needs the compiled raind executable \(Bun\); Node's fetch cannot take them$/,
    );
  });

  test('a registry that is not there', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((r) => s.close(() => r()));
    await assert.rejects(
      new RegistryClient(`127.0.0.1:${port}`).getManifest('ns/app', 'v1'),
      new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}/v2/ns/app/manifests/v1: ECONNREFUSED`),
    );
  });
});
