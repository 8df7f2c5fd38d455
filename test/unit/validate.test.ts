import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultSpec } from '../../src/oci/default-spec.js';
import { validateSpec } from '../../src/oci/validate.js';

/** droplet's default config with a change; the bundle is a path no test creates. */
function config(mutate: (c: any) => void = () => {}) {
  const c = defaultSpec() as any;
  mutate(c);
  return c;
}
const BUNDLE = '/nonexistent/bundle';
const refused = (c: unknown, expected: RegExp) => assert.throws(() => validateSpec(c, BUNDLE), expected);

describe('validateSpec, the pure validator', () => {
  test('the default config, with its defaults applied', () => {
    const spec = validateSpec(config(), BUNDLE);
    assert.deepEqual(spec.root, { path: `${BUNDLE}/rootfs`, readonly: true });
    assert.equal(spec.process.user.uid, 0);
    assert.deepEqual(spec.process.user.additionalGids, []);
    assert.deepEqual(spec.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 1024n, hard: 1024n }]);
    assert.deepEqual(
      spec.linux.namespaces.map((n) => n.type),
      ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'],
    );
    assert.deepEqual(spec.hooks.prestart, []);
    assert.equal(spec.mounts.length, 7);
  });

  test("asks nothing of the host: missing paths and absent LSMs are the runtime's to refuse", () => {
    const spec = validateSpec(
      config((c) => {
        c.root.path = '/nonexistent/rootfs';
        c.linux.namespaces[1] = { type: 'network', path: '/nonexistent/netns' };
        c.process.apparmorProfile = 'no-such-profile';
        c.process.selinuxLabel = 'system_u:system_r:container_t:s0';
        c.linux.mountLabel = 'system_u:object_r:container_file_t:s0';
      }),
      BUNDLE,
    );
    assert.equal(spec.root.path, '/nonexistent/rootfs');
    assert.equal(spec.linux.namespaces[1]?.path, '/nonexistent/netns');
    assert.equal(spec.process.apparmorProfile, 'no-such-profile');
    assert.equal(spec.process.selinuxLabel, 'system_u:system_r:container_t:s0');
    assert.equal(spec.linux.mountLabel, 'system_u:object_r:container_file_t:s0');
  });

  test("paths are normalised; a relative root.path is the bundle's", () => {
    const spec = validateSpec(
      config((c) => {
        c.root.path = 'a/../rootfs';
        c.process.cwd = '/tmp//x/';
        c.mounts[0].destination = '/proc/./';
        c.linux.maskedPaths = ['/proc//kcore'];
      }),
      '/b',
    );
    assert.equal(spec.root.path, '/b/rootfs');
    assert.equal(spec.process.cwd, '/tmp/x/');
    assert.equal(spec.mounts[0]?.destination, '/proc/');
    assert.deepEqual(spec.linux.maskedPaths, ['/proc/kcore']);
  });

  test('types and required fields are named by their JSON path', () => {
    refused(
      config((c) => (c.process.args = '/bin/sh')),
      /config\.json: process\.args: expected array, got string$/,
    );
    refused(
      config((c) => (c.process.user.uid = '0')),
      /config\.json: process\.user\.uid: expected integer, got string/,
    );
    refused(
      config((c) => (c.mounts[1].options[0] = 5)),
      /config\.json: mounts\[1\]\.options\[0\]: expected string, got number/,
    );
    refused(
      config((c) => (c.process = null)),
      /config\.json: process: is required/,
    );
    refused(
      config((c) => (c.root = undefined)),
      /config\.json: root: is required/,
    );
    refused(
      config((c) => (c.process.args = [])),
      /process\.args: must name the program to run/,
    );
    refused(
      config((c) => (c.process.cwd = 'tmp')),
      /process\.cwd: "tmp" is not an absolute path/,
    );
    refused(
      config((c) => (c.process.env = ['PATH'])),
      /process\.env\[0\]: "PATH" is not KEY=VALUE/,
    );
    refused(
      config((c) => (c.ociVersion = '2.0.0')),
      /ociVersion: unsupported version "2\.0\.0"/,
    );
    refused(
      config((c) => (c.hostname = 'a\u0000b')),
      /hostname: contains a NUL byte/,
    );
    refused([], /\(top level\): expected object, got array/);
  });

  test('namespaces: known types, once each, absolute paths', () => {
    refused(
      config((c) => c.linux.namespaces.push({ type: 'network2' })),
      /linux\.namespaces\[6\]\.type: unknown namespace type "network2"/,
    );
    refused(
      config((c) => c.linux.namespaces.push({ type: 'pid' })),
      /linux\.namespaces\[6\]\.type: duplicate namespace "pid"/,
    );
    refused(
      config((c) => (c.linux.namespaces[1] = { type: 'network', path: 'netns' })),
      /linux\.namespaces\[1\]\.path: "netns" is not an absolute path/,
    );
  });

  test('what settings need of the namespaces', () => {
    refused(
      config((c) => (c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'uts'))),
      /hostname: needs a new uts namespace/,
    );
    refused(
      config((c) => c.linux.namespaces.push({ type: 'user' })),
      /linux\.uidMappings: a new user namespace needs uidMappings and gidMappings/,
    );
    refused(
      config((c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }])),
      /linux\.uidMappings: mappings need a new user namespace/,
    );
    refused(
      config((c) => {
        c.linux.namespaces.push({ type: 'user' });
        c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
        c.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
        c.process.user.uid = 5;
      }),
      /process\.user\.uid: 5 is not mapped in linux\.uidMappings/,
    );
    refused(
      config((c) => (c.linux.timeOffsets = { monotonic: { secs: 1 } })),
      /linux\.timeOffsets: needs a new time namespace/,
    );
    refused(
      config((c) => {
        c.linux.sysctl = { 'kernel.msgmax': '1' };
        c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'ipc');
      }),
      /linux\.sysctl\.kernel\.msgmax: needs its own ipc namespace/,
    );
    refused(
      config((c) => (c.linux.sysctl = { 'vm.swappiness': '1' })),
      /linux\.sysctl\.vm\.swappiness: is not namespaced/,
    );
  });

  test("without a mount namespace nothing may be mounted in the host's", () => {
    const noMountNs = (c: any) => (c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'mount'));
    refused(config(noMountNs), /mounts\[0\]: needs a new mount namespace/);
    refused(
      config((c) => {
        noMountNs(c);
        c.mounts = [];
      }),
      /root\.readonly: needs a new mount namespace/,
    );
    const spec = validateSpec(
      config((c) => {
        noMountNs(c);
        c.mounts = [];
        c.root.readonly = false;
        c.linux.maskedPaths = [];
        c.linux.readonlyPaths = [];
      }),
      BUNDLE,
    );
    assert.equal(spec.mounts.length, 0);
  });

  test('limits, devices and settings droplet does not support', () => {
    refused(
      config((c) => (c.process.rlimits[0] = { type: 'RLIMIT_NOFILE', soft: 2048, hard: 1024 })),
      /process\.rlimits\[0\]: soft limit 2048 is above the hard limit 1024/,
    );
    refused(
      config((c) => (c.process.rlimits[0].soft = -1)),
      /process\.rlimits\[0\]\.soft: expected a non-negative integer/,
    );
    refused(
      config((c) => (c.linux.devices = [{ path: '/dev/x', type: 'c' }])),
      /linux\.devices\[0\]: major and minor are required/,
    );
    refused(
      config((c) => (c.linux.devices = [{ path: 'dev/x', type: 'p' }])),
      /linux\.devices\[0\]\.path: "dev\/x" is not an absolute path/,
    );
    refused(
      config((c) => (c.linux.intelRdt = { closID: 'c1' })),
      /linux\.intelRdt: not supported/,
    );
    refused(
      config((c) => (c.process.execCPUAffinity = { initial: '0' })),
      /process\.execCPUAffinity: not supported/,
    );
    refused(
      config((c) => (c.process.scheduler = { policy: 'SCHED_ISO' })),
      /process\.scheduler\.policy: SCHED_ISO is not implemented by Linux/,
    );
    refused(
      config((c) => (c.linux.personality = { domain: 'LINUX64' })),
      /linux\.personality\.domain: unknown domain "LINUX64"/,
    );
  });

  test('64-bit values keep every digit', () => {
    const inf = 2n ** 64n - 1n;
    const spec = validateSpec(
      config((c) => (c.process.rlimits = [{ type: 'RLIMIT_CORE', soft: inf, hard: inf }])),
      BUNDLE,
    );
    assert.deepEqual(spec.process.rlimits[0], { type: 'RLIMIT_CORE', soft: inf, hard: inf });
  });
});
