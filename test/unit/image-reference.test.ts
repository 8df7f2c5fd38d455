import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatReference, parseReference } from '../../src/oci/image/reference.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('image references, normalised as docker does', () => {
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['user/app', 'docker.io/user/app:latest'],
    ['index.docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/user/app:v1', 'docker.io/user/app:v1'],
    ['quay.io/ns/repo', 'quay.io/ns/repo:latest'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/app:2', 'localhost:5000/app:2'],
    ['127.0.0.1:5000/test/busybox:1', '127.0.0.1:5000/test/busybox:1'],
    [`host:5000/ns/repo:tag@${D}`, `host:5000/ns/repo:tag@${D}`],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    ['a.b/c/d/e-f_g.h__i', 'a.b/c/d/e-f_g.h__i:latest'],
  ];
  for (const [input, full] of cases) test(`${input} -> ${full}`, () => assert.equal(formatReference(parseReference(input)), full));

  test('parts', () => {
    assert.deepEqual(parseReference(`h:1/n/r:t@${D}`), { domain: 'h:1', path: 'n/r', tag: 't', digest: D });
    assert.deepEqual(parseReference(`r@${D}`), { domain: 'docker.io', path: 'library/r', tag: undefined, digest: D });
  });

  const bad: [string, RegExp][] = [
    ['', /invalid reference "": empty/],
    ['Busybox', /invalid reference "Busybox": repository name "library\/Busybox" must be lowercase|must be lowercase/],
    ['docker.io/User/app', /invalid reference "docker.io\/User\/app": repository name "User\/app" must be lowercase/],
    ['busybox:', /invalid reference "busybox:": invalid tag ""/],
    ['busybox:-bad', /invalid tag "-bad"/],
    ['bus//box', /invalid repository name component ""/],
    ['a/-b', /invalid repository name component "-b"/],
    ['busybox@sha256:abc', /invalid reference "busybox@sha256:abc": .*invalid digest/],
    ['busybox@md5:abcdef', /unsupported digest algorithm/],
    ['host:x:y/app', /invalid/],
    [`x/${'a'.repeat(260)}`, /longer than 255/],
  ];
  for (const [input, error] of bad) test(`refuses "${input.slice(0, 30)}"`, () => assert.throws(() => parseReference(input), error));
});
