import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkLsmLabels } from '../../src/droplet/host-checks.js';
import { loadSpec } from '../../src/droplet/load-spec.js';
import { defaultSpec } from '../../src/oci/default-spec.js';

/** Reading a bundle and checking its config against this host: files only, no root. */
describe('loadSpec and the host checks', () => {
  let dir: string;
  const write = (mutate: (c: any) => void = () => {}) => {
    const c = defaultSpec() as any;
    mutate(c);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
  };
  const refused = (expected: RegExp) => assert.throws(() => loadSpec(dir), expected);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'droplet-load-spec-'));
    mkdirSync(join(dir, 'rootfs'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a bundle with its rootfs', () => {
    write();
    assert.equal(loadSpec(dir).root.path, join(dir, 'rootfs'));
  });

  test('the bundle and its config.json', () => {
    assert.throws(() => loadSpec(join(dir, 'nope')), /^Error: bundle .*\/nope: no such file or directory$/);
    write();
    assert.throws(() => loadSpec(join(dir, 'config.json')), /bundle .*config\.json: not a directory$/);
    writeFileSync(join(dir, 'config.json'), '{"process":');
    refused(/^Error: config\.json: invalid JSON: /);
    rmSync(join(dir, 'config.json'));
    refused(/config\.json: cannot read .*config\.json: no such file or directory$/);
  });

  test('root.path must be a directory that exists', () => {
    write((c) => (c.root.path = 'no-such-rootfs'));
    refused(/config\.json: root\.path: .*no-such-rootfs: no such file or directory$/);
    write((c) => (c.root.path = 'config.json'));
    refused(/config\.json: root\.path: .*config\.json: not a directory$/);
  });

  test('a namespace joined by path must exist', () => {
    write((c) => (c.linux.namespaces[1] = { type: 'network', path: '/run/netns/nope' }));
    refused(/config\.json: linux\.namespaces\[1\]\.path: \/run\/netns\/nope: no such file or directory$/);
    write((c) => (c.linux.namespaces[1] = { type: 'network', path: '/proc/self/ns/net' }));
    assert.equal(loadSpec(dir).linux.namespaces[1]?.path, '/proc/self/ns/net');
  });

  test('LSM labels only where the LSM is enabled', () => {
    const apparmor = existsSync('/sys/kernel/security/apparmor');
    const selinux = existsSync('/sys/fs/selinux/enforce');
    const check = (labels: object) => () => checkLsmLabels(labels);
    if (apparmor) assert.doesNotThrow(check({ apparmorProfile: 'p' }));
    else assert.throws(check({ apparmorProfile: 'p' }), /config\.json: process\.apparmorProfile: AppArmor is not enabled on this host$/);
    if (selinux) assert.doesNotThrow(check({ selinuxLabel: 'l' }));
    else assert.throws(check({ selinuxLabel: 'l' }), /config\.json: process\.selinuxLabel: SELinux is not enabled on this host$/);
    if (!selinux) {
      write((c) => (c.linux.mountLabel = 'system_u:object_r:container_file_t:s0'));
      refused(/config\.json: linux\.mountLabel: SELinux is not enabled on this host$/);
    }
    assert.doesNotThrow(check({}));
  });
});
