import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  authFilePath,
  defaultAuthFile,
  removeCredentials,
  saveCredentials,
  storedCredentials,
} from '../../src/condenser/registry/auth-file.js';
import { registryCas } from '../../src/condenser/registry/tls.js';

const dir = mkdtempSync(join(tmpdir(), 'raind-authfile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('credentials file', () => {
  test("--authfile, then $REGISTRY_AUTH_FILE, then podman's default", () => {
    assert.equal(authFilePath('/a.json', { REGISTRY_AUTH_FILE: '/b.json' }), '/a.json');
    assert.equal(authFilePath(undefined, { REGISTRY_AUTH_FILE: '/b.json' }), '/b.json');
    const uid = process.getuid?.() ?? 0;
    const def = defaultAuthFile({ XDG_RUNTIME_DIR: '/run/user/1000' });
    assert.equal(def, uid === 0 ? '/run/containers/0/auth.json' : '/run/user/1000/containers/auth.json');
    assert.equal(authFilePath(undefined, {}), `/run/containers/${uid}/auth.json`);
  });

  test('save writes 0600 atomically and keeps other keys; lookup reads docker-style keys; remove', () => {
    const file = join(dir, 'sub', 'auth.json');
    assert.equal(storedCredentials(file, 'reg:5000'), undefined, 'no file: no credentials');
    saveCredentials(file, 'reg:5000', { username: 'u', password: 'p:w' });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['auth.json'], 'no temporary file left');
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { auths: { 'reg:5000': { auth: Buffer.from('u:p:w').toString('base64') } } });
    assert.deepEqual(storedCredentials(file, 'reg:5000'), { username: 'u', password: 'p:w' });

    const docker = join(dir, 'config.json');
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    writeFileSync(
      docker,
      JSON.stringify({
        auths: { 'https://index.docker.io/v1/': { auth: b64('hub:x') }, 'https://reg.lan/v1/': { auth: b64('l:y') } },
        credsStore: 'x',
      }),
    );
    assert.deepEqual(storedCredentials(docker, 'docker.io'), { username: 'hub', password: 'x' });
    assert.deepEqual(storedCredentials(docker, 'reg.lan'), { username: 'l', password: 'y' });
    assert.equal(storedCredentials(docker, 'other'), undefined);
    assert.equal(removeCredentials(docker, 'reg.lan'), true);
    assert.equal(removeCredentials(docker, 'reg.lan'), false);
    const left = JSON.parse(readFileSync(docker, 'utf8'));
    assert.deepEqual(Object.keys(left.auths), ['https://index.docker.io/v1/']);
    assert.equal(left.credsStore, 'x');
  });

  test('a broken file is one clear error', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"auths": [1]}');
    assert.throws(() => storedCredentials(bad, 'reg'), new RegExp(`^Error: credentials file ${bad}: "auths" is not an object$`));
    writeFileSync(bad, JSON.stringify({ auths: { reg: { auth: Buffer.from('nocolon').toString('base64') } } }));
    assert.throws(() => storedCredentials(bad, 'reg'), /the entry for reg is not base64 of user:password/);
  });

  test('certs.d: the *.crt of the first directory with a folder for host:port', () => {
    const a = join(dir, 'certs-a');
    const b = join(dir, 'certs-b');
    for (const [d, name, pem] of [
      [a, 'ca.crt', 'A'],
      [b, 'ca.crt', 'B'],
      [b, 'extra.crt', 'C'],
      [b, 'client.key', 'K'],
    ] as const) {
      const folder = join(d, 'reg:5000');
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, name), pem);
    }
    assert.deepEqual(registryCas('reg:5000', [join(dir, 'none'), b, a]), ['B', 'C']);
    assert.deepEqual(registryCas('other:1', [a, b]), []);
  });
});
