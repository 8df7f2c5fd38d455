import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseChallenges } from '../../src/condenser/registry/challenge.js';
import { isLoopbackHost, registryBaseUrl } from '../../src/condenser/registry/endpoint.js';
import { chainIds } from '../../src/oci/image/chain-id.js';
import { parseDigest, sha256Digest } from '../../src/oci/image/digest.js';
import { hostPlatform, parsePlatform, selectManifest } from '../../src/oci/image/platform.js';
import { MediaType, layerCompression } from '../../src/oci/image/types.js';

const hex = (c: string) => c.repeat(64);

describe('digests', () => {
  test('sha256 only, 64 lowercase hex digits', () => {
    assert.deepEqual(parseDigest(`sha256:${hex('0')}`), { algorithm: 'sha256', hex: hex('0') });
    assert.throws(() => parseDigest(`sha256:${hex('A')}`), /digest "sha256:A+": invalid digest/);
    assert.throws(() => parseDigest('sha256:abc'), /invalid digest/);
    assert.throws(() => parseDigest(`sha512:${hex('a')}${hex('a')}`), /unsupported digest algorithm/);
    assert.throws(
      () => parseDigest('nope', 'layers[0].digest'),
      /^Error: layers\[0\]\.digest "nope": invalid digest|layers\[0\]\.digest "nope"/,
    );
    assert.equal(sha256Digest('abc'), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  test('chain IDs as the image-spec defines them', () => {
    const a = `sha256:${hex('a')}`;
    const b = `sha256:${hex('b')}`;
    const c = `sha256:${hex('c')}`;
    const ab = `sha256:${createHash('sha256').update(`${a} ${b}`).digest('hex')}`;
    const abc = `sha256:${createHash('sha256').update(`${ab} ${c}`).digest('hex')}`;
    assert.deepEqual(chainIds([a, b, c]), [a, ab, abc]);
    assert.deepEqual(chainIds([]), []);
  });
});

describe('platforms', () => {
  const m = (os: string, architecture: string, variant?: string) => ({
    mediaType: MediaType.ociManifest,
    digest: `sha256:${hex(String(architecture.length % 10))}`,
    size: 1,
    platform: { os, architecture, ...(variant ? { variant } : {}) },
    name: `${os}/${architecture}/${variant ?? ''}`,
  });
  const index = [
    m('linux', 'arm', 'v6'),
    m('linux', 'arm', 'v7'),
    m('linux', 'arm64', 'v8'),
    m('windows', 'amd64'),
    m('linux', 'amd64'),
    m('linux', '386'),
  ];
  const pick = (p: string) => (selectManifest(index, parsePlatform(p), 'index X') as (typeof index)[0]).name;

  test('os/arch[/variant], with aliases', () => {
    assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(parsePlatform('Linux/aarch64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
    assert.throws(() => parsePlatform('linux'), /invalid platform "linux": expected os\/arch\[\/variant\]/);
    assert.throws(() => parsePlatform('a/b/c/d'), /invalid platform/);
  });

  test('the host is linux/amd64 here', () => {
    assert.deepEqual(hostPlatform(), { os: 'linux', architecture: process.arch === 'x64' ? 'amd64' : hostPlatform().architecture });
  });

  test('selection from an index', () => {
    assert.equal(pick('linux/amd64'), 'linux/amd64/', 'the os must match too: windows/amd64 comes first');
    assert.equal(pick('linux/arm/v7'), 'linux/arm/v7');
    assert.equal(pick('linux/arm'), 'linux/arm/v6', 'no variant asked: the first of the architecture');
    assert.equal(pick('linux/arm64'), 'linux/arm64/v8');
    assert.equal(pick('linux/aarch64/v8'), 'linux/arm64/v8');
    assert.throws(
      () => pick('linux/s390x'),
      /index X: no image for platform linux\/s390x \(the index offers linux\/arm\/v6, .*linux\/386\)/,
    );
  });
});

describe('media types', () => {
  test('layer compression', () => {
    assert.equal(layerCompression(MediaType.dockerLayerGzip), 'gzip');
    assert.equal(layerCompression(MediaType.ociLayerGzip), 'gzip');
    assert.equal(layerCompression(MediaType.ociLayer), 'none');
    assert.equal(layerCompression(MediaType.ociLayerZstd), 'zstd');
    assert.equal(layerCompression(MediaType.ociConfig), undefined);
  });
});

describe('registry endpoints and challenges', () => {
  test('plain http only on this machine or when named insecure', () => {
    assert.equal(registryBaseUrl('127.0.0.1:5000'), 'http://127.0.0.1:5000');
    assert.equal(registryBaseUrl('127.3.2.1'), 'http://127.3.2.1');
    assert.equal(registryBaseUrl('localhost:5000'), 'http://localhost:5000');
    assert.equal(registryBaseUrl('[::1]:5000'), 'http://[::1]:5000');
    assert.equal(registryBaseUrl('docker.io'), 'https://registry-1.docker.io');
    assert.equal(registryBaseUrl('quay.io'), 'https://quay.io');
    assert.equal(registryBaseUrl('128.0.0.1:5000'), 'https://128.0.0.1:5000');
    assert.equal(registryBaseUrl('reg.lan:5000', ['reg.lan:5000']), 'http://reg.lan:5000');
    assert.equal(registryBaseUrl('reg.lan:5000', ['reg.lan']), 'http://reg.lan:5000');
    assert.equal(isLoopbackHost('localhost.example.com'), false);
  });

  test('WWW-Authenticate', () => {
    assert.deepEqual(
      parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'),
      [
        {
          scheme: 'bearer',
          params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
        },
      ],
    );
    assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
    assert.deepEqual(parseChallenges('Basic realm=x, Bearer realm="a\\"b", error=invalid_token'), [
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'bearer', params: { realm: 'a"b', error: 'invalid_token' } },
    ]);
  });
});
