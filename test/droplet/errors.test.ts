import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseConfig, makeBundle, type Bundle } from '../helpers/bundle.js';
import { droplet, ok, uniqueId } from '../helpers/droplet.js';
import { leftovers } from '../helpers/leaks.js';
import { configWith, expectRefused } from '../helpers/refused.js';

const refused = expectRefused;
const config = configWith;

describe('create refuses bad input before anything is created', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test('a missing bundle', () => {
    const id = uniqueId('bad');
    const r = droplet(b.root, ['create', '-b', '/nonexistent/bundle', id]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr, `droplet: create ${id}: bundle /nonexistent/bundle: no such file or directory\n`);
  });

  test('a bundle without config.json, or an unreadable one', () => {
    rmSync(join(b.dir, 'config.json'));
    refused(b, undefined, /config\.json: cannot read .*config\.json: no such file or directory/);
    mkdirSync(join(b.dir, 'config.json'));
    refused(b, undefined, /config\.json: cannot read .*: illegal operation on a directory/);
    rmSync(join(b.dir, 'config.json'), { recursive: true });
  });

  test('invalid JSON', () => {
    refused(b, '{"ociVersion": "1.2.1", "process": ', /config\.json: invalid JSON/);
  });

  test('fields of the wrong type, named by their JSON path', () => {
    refused(
      b,
      config((c) => (c.process.args = '/bin/sh')),
      /config\.json: process\.args: expected array, got string/,
    );
    refused(
      b,
      config((c) => (c.process.user.uid = '0')),
      /config\.json: process\.user\.uid: expected integer, got string/,
    );
    refused(
      b,
      config((c) => (c.mounts[1].options[0] = 5)),
      /config\.json: mounts\[1\]\.options\[0\]: expected string, got number/,
    );
    refused(
      b,
      config((c) => (c.root.readonly = 'yes')),
      /config\.json: root\.readonly: expected boolean, got string/,
    );
    refused(
      b,
      config((c) => (c.process = null)),
      /config\.json: process: is required/,
    );
    refused(
      b,
      config((c) => (c.process.rlimits[0].soft = -1)),
      /process\.rlimits\[0\]\.soft: expected a non-negative integer/,
    );
  });

  test('unknown and duplicate namespaces', () => {
    refused(
      b,
      config((c) => c.linux.namespaces.push({ type: 'network2' })),
      /linux\.namespaces\[6\]\.type: unknown namespace type "network2"/,
    );
    refused(
      b,
      config((c) => c.linux.namespaces.push({ type: 'pid' })),
      /linux\.namespaces\[6\]\.type: duplicate namespace "pid"/,
    );
    refused(
      b,
      config((c) => c.linux.namespaces.push({ type: 'ipc2', path: '/x' })),
      /unknown namespace type "ipc2"/,
    );
  });

  test('a namespace path that does not exist', () => {
    refused(
      b,
      config((c) => (c.linux.namespaces[1] = { type: 'network', path: '/run/netns/nope' })),
      /linux\.namespaces\[1\]\.path: \/run\/netns\/nope: no such file or directory/,
    );
  });

  test('empty args, a relative cwd', () => {
    refused(
      b,
      config((c) => (c.process.args = [])),
      /process\.args: must name the program to run/,
    );
    refused(
      b,
      config((c) => (c.process.cwd = 'tmp')),
      /process\.cwd: "tmp" is not an absolute path/,
    );
  });

  test('a relative root.path that does not exist', () => {
    refused(
      b,
      config((c) => (c.root.path = 'no-such-rootfs')),
      /config\.json: root\.path: .*no-such-rootfs: no such file or directory/,
    );
  });

  test('a hostname without a uts namespace', () => {
    refused(
      b,
      config((c) => (c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'uts'))),
      /hostname: needs a new uts namespace/,
    );
  });

  test('fields droplet does not honour yet are refused, not ignored', () => {
    refused(
      b,
      config((c) => (c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' })),
      /linux\.memoryPolicy: not supported/,
    );
    refused(
      b,
      config((c) => (c.process.execCPUAffinity = { initial: '0' })),
      /process\.execCPUAffinity: not supported/,
    );
    refused(
      b,
      config((c) => (c.process.terminal = true)),
      /process\.terminal: needs --console-socket/,
    );
    refused(
      b,
      config((c) => (c.linux.intelRdt = { closID: 'c1' })),
      /linux\.intelRdt: not supported/,
    );
    refused(
      b,
      config((c) => c.mounts.push({ destination: '/x', type: 'tmpfs', source: 'tmpfs', options: ['idmap'] })),
      /mounts\[7\]\.options\[0\]: "idmap" is not supported/,
    );
  });

  test('unknown capabilities and rlimits are named', () => {
    refused(
      b,
      config((c) => c.process.capabilities.bounding.push('CAP_NOPE', 'CAP_ALSO_NOPE')),
      /process\.capabilities\.bounding: unknown capabilities: CAP_NOPE, CAP_ALSO_NOPE/,
    );
    refused(
      b,
      config((c) => (c.process.rlimits[0].type = 'RLIMIT_NOPE')),
      /process\.rlimits\[0\]\.type: unknown rlimit "RLIMIT_NOPE"/,
    );
  });

  test('ids with / or .., and an id already in use', () => {
    b.write(baseConfig());
    for (const id of ['a/b', '..', '../x', 'a b']) {
      const r = droplet(b.root, ['create', '-b', b.dir, id]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /invalid container id/);
    }
    const id = uniqueId('dup');
    ok(b.root, ['create', '-b', b.dir, id]);
    const r = droplet(b.root, ['create', '-b', b.dir, id]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr, `droplet: create ${id}: container id ${id} is already in use\n`);
    ok(b.root, ['delete', '-f', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });
});

describe('create reports failures of the init and cleans up', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test('an executable that is not in the rootfs fails create, not start', () => {
    refused(
      b,
      config((c) => (c.process.args = ['no-such-program'])),
      /exec: "no-such-program": executable file not found in \$PATH \(process\.args\[0\]\)$/,
    );
    refused(
      b,
      config((c) => (c.process.args = ['/bin/nope'])),
      /exec "\/bin\/nope": no such file or directory \(process\.args\[0\]\)$/,
    );
    refused(
      b,
      config((c) => (c.process.args = ['/etc/passwd'])),
      /exec "\/etc\/passwd": permission denied \(process\.args\[0\]\)$/,
    );
  });

  test('a mount that fails names the mount and its index', () => {
    const line = refused(
      b,
      config((c) => c.mounts.push({ destination: '/mnt', type: 'nosuchfs', source: 'none' })),
      /mount "none" on \/mnt: no such device \(mounts\[7\]\)$/,
    );
    assert.ok(line);
    refused(
      b,
      config((c) => c.mounts.push({ destination: '/mnt', type: 'bind', source: '/nonexistent/source', options: ['rbind'] })),
      /mount "\/nonexistent\/source" on \/mnt: no such file or directory \(mounts\[7\]\)$/,
    );
  });

  test('a cwd that is not a directory', () => {
    refused(
      b,
      config((c) => (c.process.cwd = '/etc/passwd')),
      /process\.cwd\)$/,
    );
  });

  test('a uid without permission to reach the cwd', () => {
    mkdirSync(join(b.rootfs, 'private'), { mode: 0o700, recursive: true });
    refused(
      b,
      config((c) => {
        c.process.cwd = '/private';
        c.process.user = { uid: 1000, gid: 1000 };
      }),
      /chdir to \/private: permission denied \(process\.cwd\)$/,
    );
  });

  test('with --log-format json the log ends with a JSON error line', () => {
    b.write(config((c) => (c.process.args = ['no-such-program'])));
    const log = join(b.dir, 'log.json');
    const id = uniqueId('log');
    const r = droplet(b.root, ['--log', log, '--log-format', 'json', 'create', '-b', b.dir, id]);
    assert.notEqual(r.code, 0);
    const last = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').pop()!);
    assert.equal(last.level, 'error');
    assert.match(last.msg, new RegExp(`^create ${id}: exec: "no-such-program": executable file not found`));
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });
});

describe('command line errors', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test('unknown commands, options and missing ids', () => {
    const cases: Array<[string[], RegExp]> = [
      [['frobnicate'], /^droplet: unknown command "frobnicate"/],
      [['--frob', 'list'], /^droplet: unknown global option "--frob"/],
      [['create', '--frob', 'x'], /^droplet: create: Unknown option '--frob'/],
      [['start'], /^droplet: start: expects exactly one container id, got 0/],
      [['kill'], /^droplet: kill: expects a container id/],
      [['list', '--format', 'yaml'], /^droplet: list: --format must be table or json/],
      [['--log-format', 'xml', 'list'], /^droplet: --log-format must be text or json/],
      [['state', 'nope'], /^droplet: state nope: container nope does not exist/],
      [['start', 'nope'], /^droplet: start nope: container nope does not exist/],
    ];
    for (const [args, re] of cases) {
      const r = droplet(b.root, args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  });

  test('--version and --help', () => {
    assert.match(ok(b.root, ['--version']).stdout, /^droplet version \d+\.\d+\.\d+\nspec: /);
    assert.match(ok(b.root, ['--help']).stdout, /^usage: droplet/);
  });

  test('spec writes a config that runs, and does not overwrite one', () => {
    rmSync(join(b.dir, 'config.json'));
    ok(b.root, ['spec', '-b', b.dir]);
    const spec = JSON.parse(readFileSync(join(b.dir, 'config.json'), 'utf8'));
    assert.equal(spec.root.path, 'rootfs');
    assert.deepEqual(spec.process.args, ['sh']);
    const r = droplet(b.root, ['spec', '-b', b.dir]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /config\.json exists; remove it first/);
    const input = join(b.dir, 'script');
    writeFileSync(input, 'echo from-spec-default; hostname\n');
    const { openSync, closeSync } = require('node:fs') as typeof import('node:fs');
    const fd = openSync(input, 'r');
    const id = uniqueId('spec');
    try {
      const out = droplet(b.root, ['run', '-b', b.dir, id], { stdio: [fd, 'pipe', 'pipe'] });
      assert.equal(out.code, 0, out.stderr);
    } finally {
      closeSync(fd);
    }
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });
});

describe('every failure names its step and field', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test('an init the OOM killer kills before the container is ready: the memory limit is named', () => {
    refused(
      b,
      config((c) => (c.linux.resources.memory = { limit: 4096 })),
      /init was killed by the OOM killer before the container was ready: .*4096.*\(linux\.resources\.memory\.limit\)$/,
    );
  });

  test('an init killed by its own seccomp filter: SIGSYS and the filter are named', () => {
    refused(
      b,
      config((c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_KILL' })),
      /init was killed by SIGSYS .*seccomp.* \(linux\.seccomp\.defaultAction\)$/,
    );
  });

  test('a NUL byte in cgroupsPath, or in a path the init would cut short', () => {
    refused(
      b,
      config((c) => (c.linux.cgroupsPath = '/droplet-test/a\u0000b')),
      /config\.json: linux\.cgroupsPath: contains a NUL byte$/,
    );
    refused(
      b,
      config((c) => c.mounts.push({ destination: '/x\u0000y', type: 'tmpfs', source: 'tmpfs' })),
      /config\.json: mounts\[7\]\.destination: contains a NUL byte$/,
    );
  });

  test('an option the kernel does not know is named', () => {
    refused(
      b,
      config((c) => c.mounts.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'foo'] })),
      /mount "tmpfs" on \/scratch: unknown option "foo" \(mounts\[7\]\)$/,
    );
    refused(
      b,
      config((c) => c.mounts.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=lots'] })),
      /mount "tmpfs" on \/scratch: option "size=lots": invalid argument \(mounts\[7\]\)$/,
    );
  });

  test('a config too large for the launch plan names the field that makes it so', () => {
    const big = 'x'.repeat(10_000);
    refused(
      b,
      config((c) => {
        for (let i = 0; i < 7000; i++) c.process.env.push(`V${i}=${big}`);
      }),
      /process\.env: .*too large.*\(the launch plan is at most 64 MiB\)$/,
    );
  });

  test('a full state directory names the step that could not write, and nothing is left', () => {
    const root = mkdtempSync(join(tmpdir(), 'droplet-full-'));
    /* 16 pages: the copy of config.json, the state and exec files take one each (the lock,
     * a flock, takes none) */
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', root]);
    try {
      b.write(baseConfig());
      const fill = join(root, 'fill');
      const cases: Array<[number, (id: string) => RegExp]> = [
        [64, (id) => new RegExp(`^droplet: create ${id}: write ${root}/${id}/config.json: no space left on device\n$`)],
        [15, (id) => new RegExp(`^droplet: create ${id}: write ${root}/${id}/\\S+: no space left on device\n$`)],
      ];
      for (const [pages, expected] of cases) {
        spawnSync('dd', ['if=/dev/zero', `of=${fill}`, 'bs=4k', `count=${pages}`], { stdio: 'ignore' });
        const id = uniqueId('full');
        const r = droplet(root, ['create', '-b', b.dir, id]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, expected(id));
        assert.deepEqual(leftovers(root, id, b.dir), []);
        rmSync(fill);
      }
    } finally {
      execFileSync('umount', [root]);
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('with -b . the error names the container, not the bundle', () => {
    b.write(config((c) => (c.process.args = ['no-such-program'])));
    const id = uniqueId('dot');
    const r = droplet(b.root, ['create', '-b', '.', id], { cwd: b.dir });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`^droplet: create ${id}: exec: "no-such-program"`));
    const r2 = droplet(b.root, ['run', '--bundle', '.', '--pid-file', 'x.pid', id], { cwd: b.dir });
    assert.match(r2.stderr, new RegExp(`^droplet: run ${id}: exec: "no-such-program"`));
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('capabilities the kernel cannot grant name their set', () => {
    refused(
      b,
      config((c) => {
        c.process.capabilities.effective = ['CAP_KILL', 'CAP_SYS_ADMIN'];
        c.process.capabilities.permitted = ['CAP_KILL'];
      }),
      /process\.capabilities\.effective: CAP_SYS_ADMIN is not in the permitted set/,
    );
    refused(
      b,
      config((c) => {
        c.process.capabilities.inheritable = ['CAP_SYS_ADMIN'];
        c.process.capabilities.bounding = ['CAP_KILL'];
      }),
      /process\.capabilities\.inheritable: CAP_SYS_ADMIN is not in the bounding set/,
    );
  });
});
