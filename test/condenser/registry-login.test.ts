import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { testEnv } from '../helpers/droplet.js';
import { RAIND } from '../helpers/raind.js';
import { makeCa, makeCert } from '../helpers/pki.js';
import { TestRegistry } from '../helpers/registry.js';
import { type PushedImage, pushBusybox } from '../helpers/test-image.js';

let dir: string;
let roots = 0;
const newRoot = () => join(dir, `root${roots++}`);

/** raind with its own credentials file and certs directory, and stdin if given. */
function run(args: string[], env: Record<string, string> = {}, input?: string) {
  const r = spawnSync(RAIND, args, { encoding: 'utf8', env: { ...testEnv(), ...env }, input, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'raind-login-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('raind login, logout and pull with htpasswd basic authentication', () => {
  let registry: TestRegistry;
  let image: PushedImage;
  let ref: string;
  let authFile: string;
  let env: Record<string, string>;

  before(async () => {
    registry = new TestRegistry(join(dir, 'auth-registry'));
    await registry.start();
    image = await pushBusybox(registry, 'private/busybox', '1');
    await registry.stop();
    const htpasswd = join(dir, 'htpasswd');
    execFileSync('htpasswd', ['-Bbc', htpasswd, 'alice', 's3cret pass']);
    await registry.start({ htpasswd });
    ref = `${registry.host}/private/busybox:1`;
    authFile = join(dir, 'auth', 'auth.json');
    env = { REGISTRY_AUTH_FILE: authFile };
  });
  after(async () => registry?.stop());

  test('without credentials a pull is refused with a clear 401 error, the store unchanged', () => {
    const root = newRoot();
    const r = run(['--root', root, 'pull', ref], env);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^raind: pull ${ref}: manifest ${ref}: the registry requires a user name and password\\n$`));
    assert.ok(!existsSync(join(root, 'images.json')));
  });

  test('a wrong password is refused (401) and nothing is saved', () => {
    const r = run(['login', '-u', 'alice', '-p', 'wrong', registry.host], env);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`^raind: login to ${registry.host}: wrong user name or password \\(HTTP 401.*\\)\\n$`));
    assert.ok(!existsSync(authFile), 'no credentials file written');
  });

  test('login saves auth.json (0600, containers-auth.json format); pull uses it; logout removes it', () => {
    const r = run(['login', '-u', 'alice', '--password-stdin', `https://${registry.host}/v2/`], env, 's3cret pass\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Login Succeeded!\n');
    assert.equal(statSync(authFile).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(authFile, 'utf8')), {
      auths: { [registry.host]: { auth: Buffer.from('alice:s3cret pass').toString('base64') } },
    });

    const root = newRoot();
    const pulled = run(['--root', root, 'pull', '-q', ref], env);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(pulled.stdout.trim(), image.configDigest);

    /* --authfile wins over the environment */
    const other = join(dir, 'other-auth.json');
    const none = run(['--root', newRoot(), 'pull', '-q', '--authfile', other, ref], env);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /requires a user name and password/);

    const out = run(['logout', registry.host], env);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(readFileSync(authFile, 'utf8')), { auths: {} });
    const again = run(['logout', registry.host], env);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, new RegExp(`^raind: logout ${registry.host}: not logged in \\(${authFile}\\)\\n$`));
    const after = run(['--root', newRoot(), 'pull', ref], env);
    assert.notEqual(after.code, 0);
    assert.match(after.stderr, /requires a user name and password/);
  });

  test("other registries in the file are kept; the default path is podman's", () => {
    writeFileSync(authFile, JSON.stringify({ auths: { 'quay.io': { auth: 'eDp5' } }, credHelpers: {} }), { mode: 0o600 });
    assert.equal(run(['login', '-u', 'alice', '-p', 's3cret pass', registry.host], env).code, 0);
    const file = JSON.parse(readFileSync(authFile, 'utf8'));
    assert.deepEqual(Object.keys(file.auths).sort(), [registry.host, 'quay.io'].sort());
    assert.deepEqual(file.credHelpers, {});
    assert.match(run(['--help']).stdout, /\/run\/containers\/UID\/auth\.json/);
  });
});

describe('raind pull over TLS', () => {
  let registry: TestRegistry;
  let image: PushedImage;
  let ref: string;
  let certs: string;

  before(async () => {
    registry = new TestRegistry(join(dir, 'tls-registry'));
    await registry.start();
    image = await pushBusybox(registry, 'tls/busybox', '1');
    await registry.stop();
    const pki = join(dir, 'pki');
    makeCa(pki, 'ca');
    makeCert(pki, 'ca', 'server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    await registry.start({ tls: { certificate: join(pki, 'server-cert.pem'), key: join(pki, 'server-key.pem') } });
    ref = `${registry.host}/tls/busybox:1`;
    certs = join(dir, 'certs.d');
    mkdirSync(join(certs, registry.host), { recursive: true });
    writeFileSync(join(certs, registry.host, 'ca.crt'), readFileSync(join(pki, 'ca.pem')));
  });
  after(async () => registry?.stop());

  test('without the CA the pull fails with a clear certificate error', () => {
    const root = newRoot();
    const r = run(['--root', root, '--certs-dir', join(dir, 'empty-certs'), 'pull', ref]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^raind: pull ${ref}: manifest ${ref}: the certificate of ${registry.host} is not trusted \\(\\w+\\): put its CA in certs.d/${registry.host}/ca.crt, or use --tls-verify=false\\n$`,
      ),
    );
    assert.ok(!existsSync(join(root, 'images.json')));
  });

  test('with certs.d/HOST:PORT/ca.crt (--certs-dir or $RAIND_CERTS_DIR) the pull works over https', () => {
    const r = run(['--root', newRoot(), '--certs-dir', certs, 'pull', '-q', ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), image.configDigest);
    const e = run(['--root', newRoot(), 'pull', '-q', ref], { RAIND_CERTS_DIR: certs });
    assert.equal(e.code, 0, e.stderr);
    assert.ok(/"GET \/v2\/tls\/busybox\/manifests\/1 HTTP\/(1\.1|2\.0)"/.test(readFileSync(registry.logFile, 'utf8')));
  });

  test('login checks the certificate too', () => {
    const env = { REGISTRY_AUTH_FILE: join(dir, 'tls-auth.json') };
    const bad = run(['--certs-dir', join(dir, 'empty-certs'), 'login', '-u', 'bob', '-p', 'pw', registry.host], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, new RegExp(`^raind: login to ${registry.host}: the certificate of ${registry.host} is not trusted`));
    assert.ok(!existsSync(env.REGISTRY_AUTH_FILE));
    const ok = run(['--certs-dir', certs, 'login', '-u', 'bob', '-p', 'pw', registry.host], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(env.REGISTRY_AUTH_FILE, 'utf8')).auths), [registry.host]);
  });

  test('--tls-verify=false pulls without the CA', () => {
    const r = run(['--root', newRoot(), '--certs-dir', join(dir, 'empty-certs'), 'pull', '-q', '--tls-verify=false', ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), image.configDigest);
  });
});
