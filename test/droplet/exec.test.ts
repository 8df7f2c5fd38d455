import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readFileSync, readlinkSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseConfig, makeBundle, type Bundle } from '../helpers/bundle.js';
import { DROPLET, droplet, ok, REPO, stateOf, testEnv, uniqueId, waitFor } from '../helpers/droplet.js';
import { leftovers, processesWith } from '../helpers/leaks.js';

describe('exec', () => {
  let b: Bundle;
  let id: string;
  before(() => {
    b = makeBundle();
    chmodSync(b.dir, 0o755);
    const c = baseConfig();
    c.root.readonly = false;
    c.process.args = ['/bin/sleep', '300'];
    c.process.env.push('FROM_CONFIG=yes');
    c.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
    };
    b.write(c);
    id = uniqueId('ex');
    ok(b.root, ['run', '-d', '-b', b.dir, id]);
  });
  after(() => {
    droplet(b.root, ['delete', '-f', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
    assert.deepEqual(processesWith(`droplet exec ${id}`), [], 'no exec launcher is left');
    b.cleanup();
  });

  const ex = (args: string[], opts = {}) => droplet(b.root, ['exec', ...args], opts);

  test('the process joins the container: namespaces, cgroup, capabilities, no_new_privs, seccomp', () => {
    const { pid } = stateOf(b.root, id);
    const r = ex([
      id,
      '/bin/sh',
      '-c',
      'echo $$; hostname; for n in net mnt pid uts ipc cgroup; do readlink /proc/self/ns/$n; done; cat /proc/self/cgroup; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status | tr -s "\\t" " "; mkdir /m 2>&1; echo $FROM_CONFIG',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.notEqual(lines[0], '1', 'not the init');
    assert.equal(lines[1], 'droplet-test');
    const ns = ['net', 'mnt', 'pid', 'uts', 'ipc', 'cgroup'].map((n) => require('node:fs').readlinkSync(`/proc/${pid}/ns/${n}`));
    assert.deepEqual(lines.slice(2, 8), ns);
    assert.equal(
      lines
        .slice(8)
        .filter((l) => /^\d+:/.test(l))
        .join('\n'),
      readFileSync(`/proc/${pid}/cgroup`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.replace(/:[^:]*$/, ':/'))
        .join('\n'),
    );
    assert.match(r.stdout, /CapEff: 0000000020000420\nNoNewPrivs: 1\nSeccomp: 2\n/);
    assert.match(r.stdout, /Permission denied\nyes\n$/);
  });

  test('exit codes and signals', async () => {
    assert.equal(ex([id, '/bin/sh', '-c', 'exit 9']).code, 9);
    const child = spawn(
      DROPLET,
      ['--root', b.root, 'exec', id, '/bin/sh', '-c', 'trap "exit 42" TERM; touch /tmp/exec-ready; while true; do sleep 0.05; done'],
      { stdio: 'ignore', env: testEnv() },
    );
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await waitFor(() => existsSync(join(b.rootfs, 'tmp', 'exec-ready')), 10000, 'the exec to start');
    child.kill('SIGTERM');
    assert.equal(await exited, 42);
  });

  test('--env, --user, --additional-gids, --cwd', () => {
    const r = ex([
      '-e',
      'A=1',
      '--env',
      'FROM_CONFIG=overridden',
      '-u',
      '1000:1001',
      '-g',
      '5',
      '-g',
      '6',
      '--cwd',
      '/tmp',
      id,
      '/bin/sh',
      '-c',
      'echo $A $FROM_CONFIG $(id -u):$(id -g) "$(id -G)" $(pwd)',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1 overridden 1000:1001 1001 5 6 /tmp\n');
  });

  test('--cap adds a capability, --no-new-privs is kept', () => {
    const r = ex(['--cap', 'CAP_SYS_ADMIN', id, '/bin/sh', '-c', 'grep CapEff /proc/self/status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`CapEff:\\s+${((1n << 29n) | (1n << 5n) | (1n << 10n) | (1n << 21n)).toString(16).padStart(16, '0')}`),
    );
    const bad = ex(['--cap', 'CAP_NOPE', id, '/bin/true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown capabilities: CAP_NOPE/);
  });

  test('--process takes a runtime-spec process', () => {
    const file = join(b.dir, 'process.json');
    writeFileSync(
      file,
      JSON.stringify({
        args: ['/bin/sh', '-c', 'echo from-file $(id -u) $(pwd) $X'],
        cwd: '/etc',
        env: ['X=y', 'PATH=/bin'],
        user: { uid: 7, gid: 7 },
      }),
    );
    const r = ex(['-p', file, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'from-file 7 /etc y\n');
    writeFileSync(file, JSON.stringify({ args: 'not-a-list', cwd: '/' }));
    const bad = ex(['-p', file, id]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /process\.args: expected array, got string/);
  });

  test('--detach with --pid-file', async () => {
    const pidFile = join(b.dir, 'exec.pid');
    const r = ex(['-d', '--pid-file', pidFile, id, '/bin/sleep', '30']);
    assert.equal(r.code, 0, r.stderr);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.equal(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim(), '/bin/sleep 30');
    process.kill(pid, 'SIGKILL');
  });

  test('--preserve-fds', () => {
    const data = join(b.dir, 'fd-data');
    writeFileSync(data, 'through fd 3\n');
    const fd = openSync(data, 'r');
    try {
      const r = ex(['--preserve-fds', '1', id, '/bin/sh', '-c', 'cat <&3'], { extraFds: [fd] });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'through fd 3\n');
    } finally {
      closeSync(fd);
    }
  });

  test('--tty with --console-socket, and --tty in the foreground', async () => {
    const sock = join(b.dir, `exec-console-${uniqueId('s')}.sock`);
    const receiver = spawn('python3', [join(REPO, 'test', 'helpers', 'console-receiver.py'), sock, 'tty; exit\n'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    receiver.stdout.on('data', (d) => (out += d));
    const done = new Promise((r) => receiver.on('exit', r));
    await waitFor(() => out.startsWith('listening'), 5000, 'the console receiver');
    const r = ex(['-t', '-d', '--console-socket', sock, id, '/bin/sh']);
    assert.equal(r.code, 0, r.stderr);
    await done;
    assert.match(out, /\/dev\/pts\/\d+/);
    const fg = spawnSync(
      'python3',
      [
        join(REPO, 'test', 'helpers', 'pty-run.py'),
        '30',
        '90',
        'stty size; exit 4\n',
        DROPLET,
        '--root',
        b.root,
        'exec',
        '-t',
        id,
        '/bin/sh',
      ],
      { env: testEnv(), encoding: 'utf8', timeout: 60_000 },
    );
    assert.match(fg.stdout, /30 90\r*\n/);
    assert.match(fg.stdout, /EXIT 4\n$/);
  });

  test('LSM options are refused where the LSM is not enabled', () => {
    if (existsSync('/sys/kernel/security/apparmor')) return;
    const r = ex(['--apparmor', 'p', id, '/bin/true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /AppArmor is not enabled on this host/);
  });

  test('a paused container refuses exec without --ignore-paused', () => {
    ok(b.root, ['pause', id]);
    try {
      const r = ex([id, '/bin/true']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /^droplet: exec .*: cannot exec in a paused container/);
    } finally {
      ok(b.root, ['resume', id]);
    }
  });

  test('a stopped container, a missing command or container, a bad cwd', () => {
    assert.match(ex([id]).stderr, /exec: a command is required/);
    assert.match(ex(['nope-nope', '/bin/true']).stderr, /container nope-nope does not exist/);
    assert.match(
      ex(['--cwd', '/nonexistent', id, '/bin/true']).stderr,
      /chdir to \/nonexistent: no such file or directory \(process\.cwd\)/,
    );
    const c = baseConfig();
    c.process.args = ['/bin/true'];
    b.write(c);
    const done = uniqueId('done');
    ok(b.root, ['run', '-d', '-b', b.dir, done]);
    return waitFor(() => stateOf(b.root, done).status === 'stopped', 5000, 'the container to stop').then(() => {
      const r = ex([done, '/bin/true']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /cannot exec in a stopped container/);
      ok(b.root, ['delete', done]);
    });
  });
});

describe('exec in a user namespace', () => {
  test("the process has the container's id maps and is root in it", () => {
    const b = makeBundle((c) => {
      c.process.args = ['/bin/sleep', '60'];
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    });
    chmodSync(b.dir, 0o755);
    const id = uniqueId('exu');
    try {
      ok(b.root, ['run', '-d', '-b', b.dir, id]);
      const r = droplet(b.root, ['exec', id, '/bin/sh', '-c', 'cat /proc/self/uid_map | tr -s " "; id -u']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, ' 0 200000 65536\n0\n');
    } finally {
      droplet(b.root, ['delete', '-f', id]);
      assert.deepEqual(leftovers(b.root, id, b.dir), []);
      b.cleanup();
    }
  });
});

describe('exec after create never reads the bundle', () => {
  test("the bundle's rootfs moved and its config.json replaced: exec still runs, with the config of create", () => {
    const b = makeBundle((c) => {
      c.process.args = ['/bin/sleep', '60'];
      c.process.env.push('FROM_CREATE=yes');
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 512 }];
    });
    const id = uniqueId('exb');
    const moved = `${b.rootfs}.moved`;
    try {
      ok(b.root, ['run', '-d', '-b', b.dir, id]);
      renameSync(b.rootfs, moved);
      writeFileSync(join(b.dir, 'config.json'), '{"this is": "not the config of create"');
      const r = droplet(b.root, ['exec', id, '/bin/sh', '-c', 'echo $FROM_CREATE; ulimit -n']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'yes\n512\n');
    } finally {
      droplet(b.root, ['delete', '-f', id]);
      assert.deepEqual(leftovers(b.root, id, b.dir), []);
      b.cleanup();
    }
  });
});

describe('exec joins the namespaces in an order that works', () => {
  /* A container with its own user namespace that joined a network namespace the host's user
   * namespace owns: joined after the container's user namespace, setns(2) would need rights
   * over the host's, and fail. runc joins such namespaces first, then the user namespace,
   * then the ones it owns. */
  test('a user namespace and a network namespace it does not own', () => {
    const netns = `droplet-test-${process.pid}`;
    execFileSync('ip', ['netns', 'add', netns]);
    const b = makeBundle((c) => {
      c.process.args = ['/bin/sleep', '60'];
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'network');
      c.linux.namespaces.push({ type: 'user' }, { type: 'network', path: `/run/netns/${netns}` });
      c.linux.uidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
      /* sysfs belongs to the network namespace's owner: not the container's to mount */
      c.mounts = c.mounts.filter((m: any) => !m.destination.startsWith('/sys'));
    });
    chmodSync(b.dir, 0o755);
    const id = uniqueId('exo');
    try {
      ok(b.root, ['run', '-d', '-b', b.dir, id]);
      const { pid } = stateOf(b.root, id);
      const r = droplet(b.root, [
        'exec',
        id,
        '/bin/sh',
        '-c',
        'cat /proc/self/uid_map | tr -s " "; id -u; for n in user net mnt pid; do readlink /proc/self/ns/$n; done',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const want = ['user', 'net', 'mnt', 'pid'].map((n) => readlinkSync(`/proc/${pid}/ns/${n}`));
      assert.equal(r.stdout, `${[' 0 300000 65536', '0', ...want].join('\n')}\n`);
      assert.equal(want[1], `net:[${statSync(`/run/netns/${netns}`).ino}]`, 'the network namespace joined by path');
    } finally {
      droplet(b.root, ['delete', '-f', id]);
      assert.deepEqual(leftovers(b.root, id, b.dir), []);
      b.cleanup();
      execFileSync('ip', ['netns', 'del', netns]);
    }
  });
});
