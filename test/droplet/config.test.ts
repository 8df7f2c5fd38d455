import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseConfig, makeBundle, type Bundle } from '../helpers/bundle.js';
import { DROPLET, droplet, ok, REPO, stateOf, testEnv, uniqueId, waitFor } from '../helpers/droplet.js';
import { leftovers } from '../helpers/leaks.js';
import { configWith, expectRefused } from '../helpers/refused.js';

/** Runs the base config with a change, in the foreground, and returns what it printed. */
function run(b: Bundle, script: string, mutate?: (c: any) => void, args: string[] = []) {
  const c = baseConfig();
  c.process.args = ['/bin/sh', '-c', script];
  mutate?.(c);
  b.write(c);
  const id = uniqueId('cfg');
  const r = droplet(b.root, ['run', ...args, '-b', b.dir, id]);
  assert.deepEqual(leftovers(b.root, id, b.dir), []);
  return r;
}

function refused(b: Bundle, mutate: (c: any) => void, re: RegExp) {
  expectRefused(b, configWith(mutate), re);
}

const userns = (c: any) => {
  c.linux.namespaces.push({ type: 'user' });
  c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
};

describe('user and time namespaces', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
    /* the container's root is host uid 100000: it must be able to reach its rootfs */
    chmodSync(b.dir, 0o755);
  });
  after(() => b.cleanup());

  test('a new user namespace: the maps, root inside, host ids outside, devices bound from the host', () => {
    const r = run(
      b,
      'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; echo x > /dev/null && echo null-ok; cat /proc/self/status | grep CapEff',
      userns,
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).join(' '));
    assert.deepEqual(lines.slice(0, 5), ['0 100000 65536', '0 100000 65536', '0', '0', 'null-ok']);
  });

  test('the container user maps to its host id', async () => {
    const c = baseConfig();
    userns(c);
    c.process.user = { uid: 1000, gid: 1000 };
    c.process.args = ['/bin/sleep', '30'];
    b.write(c);
    const id = uniqueId('uid');
    ok(b.root, ['run', '-d', '-b', b.dir, id]);
    const { pid } = stateOf(b.root, id);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    assert.match(status, /\nUid:\s+101000\s+101000\s+101000\s+101000\n/);
    assert.match(status, /\nGid:\s+101000\s+101000\s+101000\s+101000\n/);
    ok(b.root, ['delete', '-f', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('joining an existing user namespace by path, with the others', () => {
    const c = baseConfig();
    userns(c);
    c.process.args = ['/bin/sleep', '30'];
    b.write(c);
    const first = uniqueId('owner');
    ok(b.root, ['run', '-d', '-b', b.dir, first]);
    try {
      const { pid } = stateOf(b.root, first);
      const r = run(b, 'cat /proc/self/uid_map; hostname', (c2) => {
        c2.linux.namespaces = [
          { type: 'user', path: `/proc/${pid}/ns/user` },
          { type: 'uts', path: `/proc/${pid}/ns/uts` },
          { type: 'mount' },
          { type: 'pid' },
        ];
        delete c2.hostname;
        c2.mounts = c2.mounts.filter((m: any) => !['/sys', '/sys/fs/cgroup', '/dev/mqueue'].includes(m.destination));
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim().split('\n')[0]?.trim().split(/\s+/).join(' '), '0 100000 65536');
      assert.equal(r.stdout.trim().split('\n')[1], 'droplet-test');
    } finally {
      ok(b.root, ['delete', '-f', first]);
    }
  });

  test('linux.devices: made with mknod, or bound from the host inside a user namespace', () => {
    const dev = { path: '/dev/loop-test', type: 'c', major: 1, minor: 3, fileMode: 0o620, uid: 0, gid: 9 };
    const plain = run(b, 'stat -c "%F %t:%T %a %u %g" /dev/loop-test; echo x > /dev/loop-test && echo writable', (c) => {
      c.linux.devices = [dev];
    });
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, 'character special file 1:3 620 0 9\nwritable\n');
    /* mknod is refused in a user namespace: the host node is bound instead (here /dev/null) */
    const bound = run(b, 'stat -c "%F %t:%T" /dev/null; echo x > /dev/null && echo writable', userns);
    assert.equal(bound.code, 0, bound.stderr);
    assert.equal(bound.stdout, 'character special file 1:3\nwritable\n');
    refused(b, (c) => (c.linux.devices = [{ ...dev, type: 'x' }]), /linux\.devices\[0\]\.type: unknown device type "x"/);
    refused(b, (c) => (c.linux.devices = [{ path: '/dev/nomajor', type: 'c' }]), /linux\.devices\[0\]: major and minor are required/);
  });

  test('a user namespace needs mappings, and the process user must be mapped', () => {
    refused(
      b,
      (c) => c.linux.namespaces.push({ type: 'user' }),
      /linux\.uidMappings: a new user namespace needs uidMappings and gidMappings/,
    );
    refused(
      b,
      (c) => {
        userns(c);
        c.process.user = { uid: 70000, gid: 0 };
      },
      /process\.user\.uid: 70000 is not mapped/,
    );
    refused(b, (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 1, size: 1 }]), /mappings need a new user namespace/);
    refused(
      b,
      (c) => {
        userns(c);
        c.linux.uidMappings[0].size = 0;
      },
      /linux\.uidMappings\[0\]\.size: must be at least 1/,
    );
  });

  test('a time namespace with offsets', () => {
    const r = run(b, 'cut -d. -f1 /proc/uptime', (c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { boottime: { secs: 10 * 86400, nanosecs: 0 }, monotonic: { secs: 10 * 86400, nanosecs: 0 } };
    });
    assert.equal(r.code, 0, r.stderr);
    const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split('.')[0]);
    assert.ok(Number(r.stdout) >= 10 * 86400 + hostUptime - 5, r.stdout);
    refused(b, (c) => (c.linux.timeOffsets = { monotonic: { secs: 1 } }), /linux\.timeOffsets: needs a new time namespace/);
    refused(
      b,
      (c) => {
        c.linux.namespaces.push({ type: 'time' });
        c.linux.timeOffsets = { realtime: { secs: 1 } };
      },
      /linux\.timeOffsets\.realtime: unknown clock/,
    );
  });
});

describe('process settings', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test('sysctls of the container namespaces are set; others are refused', () => {
    const r = run(b, 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni', (c) => {
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmni': '1234' };
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1\n1234\n');
    assert.notEqual(readFileSync('/proc/sys/kernel/shmmni', 'utf8').trim(), '1234', 'the host keeps its value');
    refused(b, (c) => (c.linux.sysctl = { 'kernel.pid_max': '100' }), /linux\.sysctl\.kernel\.pid_max: is not namespaced/);
    refused(
      b,
      (c) => {
        c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'network');
        c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
      },
      /linux\.sysctl\.net\.ipv4\.ip_forward: needs its own network namespace/,
    );
    refused(
      b,
      (c) => (c.linux.sysctl = { 'net.ipv4.nope_nope': '1' }),
      /set sysctl net\.ipv4\.nope_nope="1": no such file or directory \(linux\.sysctl\.net\.ipv4\.nope_nope\)/,
    );
  });

  test('personality, scheduler, I/O priority and oom_score_adj', () => {
    const r = run(
      b,
      'uname -m; grep -E "^policy" /proc/self/sched | tr -s " "; cut -d" " -f19 /proc/self/stat; ionice -p $$; cat /proc/self/oom_score_adj',
      (c) => {
        c.linux.personality = { domain: 'LINUX32' };
        c.process.scheduler = { policy: 'SCHED_BATCH', nice: 7 };
        c.process.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 0 };
        c.process.oomScoreAdj = 333;
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const [arch, policy, nice, io, oom] = r.stdout.trim().split('\n');
    assert.equal(arch, 'i686');
    assert.equal(policy, 'policy : 3');
    assert.equal(nice, '7');
    assert.match(io ?? '', /idle/);
    assert.equal(oom, '333');
    refused(b, (c) => (c.process.scheduler = { policy: 'SCHED_FAST' }), /process\.scheduler\.policy: unknown policy "SCHED_FAST"/);
    refused(b, (c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_NOPE' }), /process\.ioPriority\.class: unknown class/);
    refused(b, (c) => (c.linux.personality = { domain: 'BSD' }), /linux\.personality\.domain: unknown domain "BSD"/);
  });

  test('domainname, and --no-pivot (move + chroot, for initramfs roots)', () => {
    const r = run(
      b,
      'hostname; cat /proc/sys/kernel/domainname; ls /',
      (c) => {
        c.domainname = 'example.test';
      },
      ['--no-pivot'],
    );
    assert.equal(r.code, 0, r.stderr);
    /* the container's own root: its /bin, and nothing of the host's (no /work, no /usr) */
    assert.match(r.stdout, /^droplet-test\nexample\.test\n/);
    const top = r.stdout.split('\n').slice(2).filter(Boolean);
    assert.ok(top.includes('bin') && !top.includes('usr') && !top.includes('work'), top.join(' '));
  });

  test('LISTEN_FDS passes socket-activated fds and announces them', () => {
    const data = join(b.dir, 'listen-data');
    writeFileSync(data, 'activated\n');
    const c = baseConfig();
    c.process.args = ['/bin/sh', '-c', 'cat <&3; echo $LISTEN_FDS $LISTEN_PID'];
    b.write(c);
    const fd = openSync(data, 'r');
    try {
      const id = uniqueId('listen');
      const r = droplet(b.root, ['run', '-b', b.dir, id], {
        extraFds: [fd],
        env: { ...testEnv(), LISTEN_FDS: '1', LISTEN_PID: String(process.pid) },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'activated\n1 1\n');
      assert.deepEqual(leftovers(b.root, id, b.dir), []);
    } finally {
      closeSync(fd);
    }
  });

  test('LSM settings are refused where the LSM is not enabled', () => {
    if (!existsSync('/sys/kernel/security/apparmor'))
      refused(b, (c) => (c.process.apparmorProfile = 'docker-default'), /process\.apparmorProfile: AppArmor is not enabled on this host/);
    if (!existsSync('/sys/fs/selinux/enforce')) {
      refused(b, (c) => (c.process.selinuxLabel = 'system_u:system_r:container_t:s0'), /process\.selinuxLabel: SELinux is not enabled/);
      refused(b, (c) => (c.linux.mountLabel = 'system_u:object_r:container_file_t:s0'), /linux\.mountLabel: SELinux is not enabled/);
    }
  });

  test('a new session keyring named after the container, unless --no-new-keyring', () => {
    const unmask = (c: any) => (c.linux.maskedPaths = c.linux.maskedPaths.filter((p: string) => p !== '/proc/keys'));
    const c = baseConfig();
    unmask(c);
    c.process.args = ['/bin/sh', '-c', 'grep keyring /proc/keys'];
    b.write(c);
    const id = uniqueId('keys');
    const r = droplet(b.root, ['run', '-b', b.dir, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`keyring\\s+${id}:`));
    const id2 = uniqueId('nokeys');
    const r2 = droplet(b.root, ['run', '--no-new-keyring', '-b', b.dir, id2]);
    assert.doesNotMatch(r2.stdout, new RegExp(`${id2}:`));
  });

  test("--preserve-fds passes the caller's fds 3.. to the container, and only those", () => {
    const data = join(b.dir, 'data');
    writeFileSync(data, 'through fd 3\n');
    const c = baseConfig();
    c.process.args = ['/bin/sh', '-c', 'cat <&3; ls /proc/self/fd | wc -l'];
    b.write(c);
    const fd = openSync(data, 'r');
    try {
      const id = uniqueId('fds');
      const r = droplet(b.root, ['run', '--preserve-fds', '1', '-b', b.dir, id], { extraFds: [fd] });
      assert.equal(r.code, 0, r.stderr);
      /* cat's input, then 0 1 2 3 and ls's own directory fd */
      assert.equal(r.stdout, 'through fd 3\n5\n');
      const bad = uniqueId('fds');
      const r2 = droplet(b.root, ['run', '--preserve-fds', '2', '-b', b.dir, bad], { extraFds: [fd] });
      assert.notEqual(r2.code, 0);
      assert.match(r2.stderr, /--preserve-fds 2: fd 4 was not passed to droplet/);
      assert.deepEqual(leftovers(b.root, bad, b.dir), []);
    } finally {
      closeSync(fd);
    }
  });
});

describe('mount options beyond mount(2)', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
    writeFileSync(join(b.rootfs, 'etc', 'image-file'), 'from the image\n');
  });
  after(() => b.cleanup());

  test('rro makes a bind mount and all its submounts read-only; ro alone only the top', () => {
    /* the host's /sys has many submounts (cgroup hierarchies among them) */
    const script = 'grep -E " /host-sys(/| )" /proc/self/mountinfo | cut -d" " -f5,6';
    const r = run(b, script, (c) =>
      c.mounts.push({ destination: '/host-sys', type: 'bind', source: '/sys', options: ['rbind', 'rro', 'rnosuid'] }),
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.length > 3, r.stdout);
    for (const l of lines) assert.match(l, /^\S+ ro,nosuid/);
    const plain = run(b, script, (c) =>
      c.mounts.push({ destination: '/host-sys', type: 'bind', source: '/sys', options: ['rbind', 'ro'] }),
    );
    const plainLines = plain.stdout.trim().split('\n');
    assert.match(plainLines[0] ?? '', /^\/host-sys ro/);
    assert.ok(
      plainLines.slice(1).some((l) => / rw/.test(l)),
      'without rro the submounts keep rw',
    );
  });

  test('tmpcopyup copies what the image has into the tmpfs, which is writable', () => {
    const r = run(
      b,
      'cat /etc/image-file; echo new > /etc/new-file && cat /etc/new-file; grep " /etc " /proc/self/mountinfo | cut -d" " -f9',
      (c) => {
        c.mounts.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'mode=755'] });
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'from the image\nnew\ntmpfs\n');
    assert.ok(!existsSync(join(b.rootfs, 'etc', 'new-file')), 'the image is untouched');
  });

  test('tmpfs size, mode, uid and gid', () => {
    const r = run(b, 'stat -c "%a %u %g" /scratch; df -k /scratch | tail -1 | tr -s " " | cut -d" " -f2', (c) => {
      c.mounts.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=2m', 'mode=1770', 'uid=12', 'gid=34'] });
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1770 12 34\n2048\n');
  });

  test('rootfsPropagation and per-mount propagation', () => {
    const r = run(b, 'grep -E " / | /p " /proc/self/mountinfo | cut -d" " -f5,7', (c) => {
      c.linux.rootfsPropagation = 'shared';
      c.mounts.push({ destination: '/p', type: 'tmpfs', source: 'tmpfs', options: ['private'] });
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\/ shared:/m);
    assert.match(r.stdout, /^\/p -$/m);
  });
});

describe('hooks', () => {
  let b: Bundle;
  let log: string;
  before(() => {
    b = makeBundle();
    log = join(b.dir, 'hooks.log');
    /* a host-side hook (runs in droplet's namespaces): logs its kind and the state it read */
    writeFileSync(join(b.dir, 'hook.sh'), `#!/bin/sh\necho "$1 $(cat)" >> ${log}\n`, { mode: 0o755 });
    /* the same inside the container's view for startContainer (path resolves in the container) */
    writeFileSync(join(b.rootfs, 'hook.sh'), '#!/bin/sh\necho "$1 $(cat)" > /dev/stderr\n', { mode: 0o755 });
  });
  after(() => b.cleanup());

  const hook = (kind: string, path?: string) => ({ path: path ?? join(b.dir, 'hook.sh'), args: ['hook.sh', kind] });

  test('every hook runs, in lifecycle order, with the state on stdin', () => {
    const c = baseConfig();
    c.process.args = ['/bin/true'];
    c.hooks = {
      prestart: [hook('prestart')],
      createRuntime: [hook('createRuntime')],
      createContainer: [hook('createContainer')],
      startContainer: [{ path: '/hook.sh', args: ['hook.sh', 'startContainer'] }],
      poststart: [hook('poststart')],
      poststop: [hook('poststop')],
    };
    b.write(c);
    const id = uniqueId('hooks');
    const r = droplet(b.root, ['run', '-b', b.dir, id]);
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(' ')[0]),
      ['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop'],
    );
    const states = lines.map((l) => JSON.parse(l.slice(l.indexOf(' ') + 1)));
    assert.deepEqual(
      states.map((s) => s.status),
      ['creating', 'creating', 'creating', 'running', 'stopped'],
    );
    for (const s of states) {
      assert.equal(s.id, id);
      assert.equal(s.bundle, b.dir);
      assert.ok(s.pid > 0);
    }
    /* startContainer ran in the container, after the start byte */
    const start = JSON.parse(
      r.stderr
        .trim()
        .split('\n')
        .find((l) => l.startsWith('startContainer'))!
        .slice('startContainer '.length),
    );
    assert.equal(start.status, 'created');
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('a failing prestart, createRuntime or createContainer hook fails create and cleans up', () => {
    for (const kind of ['prestart', 'createRuntime', 'createContainer']) {
      refused(
        b,
        (c) => (c.hooks = { [kind]: [{ path: '/bin/false', args: ['false'] }] }),
        new RegExp(`${kind} hook /bin/false: exit status 1 \\(hooks\\.${kind}\\[0\\]\\)`),
      );
    }
    refused(
      b,
      (c) => (c.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '10'], timeout: 1 }] }),
      /createRuntime hook \/bin\/sleep: timed out after 1s/,
    );
    refused(
      b,
      (c) => (c.hooks = { prestart: [{ path: 'relative/hook' }] }),
      /hooks\.prestart\[0\]\.path: "relative\/hook" is not an absolute path/,
    );
  });

  test('a failing poststart or poststop hook is a warning and the lifecycle goes on', () => {
    const c = baseConfig();
    c.process.args = ['/bin/sh', '-c', 'exit 5'];
    c.hooks = { poststart: [{ path: '/bin/false', args: ['false'] }], poststop: [{ path: '/bin/false', args: ['false'] }] };
    b.write(c);
    const id = uniqueId('warn');
    const r = droplet(b.root, ['run', '-b', b.dir, id]);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /warning: poststart hook \/bin\/false: exit status 1/);
    assert.match(r.stderr, /warning: poststop hook \/bin\/false: exit status 1/);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });
});

describe('terminals', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  /** Creates and starts a terminal container whose console goes to a receiver process. */
  async function withConsole(input: string, mutate?: (c: any) => void): Promise<{ out: string; name: string }> {
    const c = baseConfig();
    c.process.terminal = true;
    c.process.args = ['/bin/sh'];
    mutate?.(c);
    b.write(c);
    const sock = join(b.dir, `console-${uniqueId('s')}.sock`);
    const receiver = spawn('python3', [join(REPO, 'test', 'helpers', 'console-receiver.py'), sock, input], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    receiver.stdout.on('data', (d) => (out += d));
    receiver.stderr.on('data', (d) => (err += d));
    const done = new Promise<void>((r) => receiver.on('exit', () => r()));
    await waitFor(() => out.startsWith('listening'), 5000, 'the console receiver');
    const id = uniqueId('tty');
    ok(b.root, ['create', '--console-socket', sock, '-b', b.dir, id]);
    ok(b.root, ['start', id]);
    await done;
    await waitFor(() => stateOf(b.root, id).status === 'stopped', 5000, 'the shell to exit');
    ok(b.root, ['delete', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
    return { out: out.slice('listening\n'.length), name: err };
  }

  test('the pty master reaches --console-socket; the shell has a terminal as stdio and /dev/console', async () => {
    const { out, name } = await withConsole('tty; readlink /proc/self/fd/0; stty size; ls -l /dev/console | cut -c1; exit\n', (c) => {
      c.process.consoleSize = { height: 33, width: 111 };
    });
    assert.match(name, /name=\/dev\/ptmx/);
    assert.match(out, /\/dev\/pts\/0\r?\n\/dev\/pts\/0\r?\n33 111\r?\nc\r?\n/);
  });

  test('run in the foreground is the terminal itself: raw mode, its window size, the exit code', () => {
    const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
    const c = baseConfig();
    c.process.terminal = true;
    c.process.args = ['/bin/sh'];
    b.write(c);
    const id = uniqueId('fg');
    const r = spawnSync(
      'python3',
      [
        join(REPO, 'test', 'helpers', 'pty-run.py'),
        '40',
        '120',
        'tty; stty size; echo $((6*7)); exit 3\n',
        DROPLET,
        '--root',
        b.root,
        'run',
        '-b',
        b.dir,
        id,
      ],
      { env: testEnv(), encoding: 'utf8', timeout: 60_000 },
    );
    assert.match(r.stdout, /\/dev\/pts\/0\r*\n40 120\r*\n42\r*\n/);
    assert.match(r.stdout, /EXIT 3\n$/);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('--console-socket without a terminal, and a terminal without one, are refused', () => {
    const c = baseConfig();
    b.write(c);
    const id = uniqueId('tty');
    const r = droplet(b.root, ['create', '--console-socket', '/tmp/none.sock', '-b', b.dir, id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--console-socket is for a container with process\.terminal set/);
    refused(b, (c2) => (c2.process.terminal = true), /process\.terminal: needs --console-socket \(or run in the foreground\)/);
    const c3 = baseConfig();
    c3.process.terminal = true;
    b.write(c3);
    const id3 = uniqueId('tty');
    const r3 = droplet(b.root, ['create', '--console-socket', join(b.dir, 'nobody-listens.sock'), '-b', b.dir, id3]);
    assert.notEqual(r3.code, 0);
    assert.match(r3.stderr, /set up the console through .*nobody-listens\.sock: no such file or directory \(process\.terminal\)/);
    assert.deepEqual(leftovers(b.root, id3, b.dir), []);
  });
});

describe('the host binaries stay out of reach', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test("a process in the same PID namespace cannot open the waiting init's executable", () => {
    const c = baseConfig();
    c.process.args = ['/bin/true'];
    b.write(c);
    const waiting = uniqueId('victim');
    ok(b.root, ['create', '-b', b.dir, waiting]);
    const { pid } = stateOf(b.root, waiting);
    const r = run(
      b,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${ID} and ${FIFO} are the shell's, from the env below
      'for p in /proc/[0-9]*; do [ "$(cat $p/cmdline 2>/dev/null | tr "\\0" " ")" = "droplet init ${ID} ${FIFO} /bin/true " ] && echo "found $p"; done; readlink /proc/1/exe || echo no-readlink; echo x >> /proc/1/exe || echo no-write; cat /proc/1/environ > /dev/null || echo no-environ',
      (c2) => {
        c2.linux.namespaces = c2.linux.namespaces.map((n: any) => (n.type === 'pid' ? { type: 'pid', path: `/proc/${pid}/ns/pid` } : n));
        c2.process.env.push(`ID=${waiting}`, `FIFO=${join(b.root, waiting, 'exec.fifo')}`);
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /found \/proc\/1\n/);
    assert.match(r.stdout, /no-readlink\n/);
    assert.match(r.stdout, /no-write\n/);
    assert.match(r.stdout, /no-environ\n/);
    ok(b.root, ['delete', '-f', waiting]);
    assert.deepEqual(leftovers(b.root, waiting, b.dir), []);
  });
});

describe('real-world configs', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  for (const variant of ['runc spec', 'runc spec --rootless']) {
    test(`the config of \`${variant}\` runs`, { skip: !existsSync('/usr/sbin/runc') && 'runc is not installed' }, () => {
      const dir = join(b.dir, variant.replace(/\W+/g, '-'));
      mkdirSync(dir, { recursive: true });
      const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
      execFileSync('runc', variant.split(' ').slice(1), { cwd: dir });
      const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      c.root.path = b.rootfs;
      /* runc's default is an interactive shell on a terminal; this one prints and exits */
      c.process.terminal = false;
      c.process.args = ['/bin/sh', '-c', 'echo pid=$$ uid=$(id -u) host=$(hostname)'];
      writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
      const id = uniqueId('fixture');
      const r = droplet(b.root, ['run', '-b', dir, id]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'pid=1 uid=0 host=runc\n');
      assert.deepEqual(leftovers(b.root, id, dir), []);
    });
  }

  test('a config like the one podman generates runs', () => {
    const c = JSON.parse(readFileSync(join(REPO, 'test', 'fixtures', 'podman-config.json'), 'utf8'));
    c.root.path = b.rootfs;
    /* the files podman keeps in the container's userdata directory, bind-mounted relative to the bundle */
    mkdirSync(join(b.dir, 'userdata'), { recursive: true });
    for (const [f, text] of [
      ['hostname', 'podman-like\n'],
      ['hosts', '127.0.0.1 localhost\n'],
      ['resolv.conf', 'nameserver 127.0.0.1\n'],
      ['.containerenv', 'engine="podman"\n'],
    ] as const)
      writeFileSync(join(b.dir, 'userdata', f), text);
    c.process.args = [
      '/bin/sh',
      '-c',
      'echo pid=$$ host=$(hostname) user=$(id -u):$(id -g); cat /proc/self/status | grep -E "^(NoNewPrivs|CapBnd)"',
    ];
    writeFileSync(join(b.dir, 'config.json'), JSON.stringify(c));
    const id = uniqueId('podman');
    const r = droplet(b.root, ['run', '-b', b.dir, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^pid=1 host=podman-like user=0:0\n/);
    assert.match(r.stdout, /NoNewPrivs:\s+0/);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
    assert.equal(existsSync('/sys/fs/cgroup/pids/libpod_parent/libpod-podman-like'), false);
  });
});

describe('a container without a mount namespace', () => {
  /* runtime-spec: a namespace type that is not listed is the runtime's. As runc, droplet then
   * chroots into root.path in the host's mount namespace, and mounts nothing there. */
  /* the host's mount table, but for what other suites running on this machine mount and
   * unmount meanwhile in their own temporary directories and network namespaces */
  const hostMounts = (ownDir = '') =>
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ').slice(3, 5))
      .filter(([, point = '']) => {
        if (ownDir && point.startsWith(ownDir)) return true;
        return !point.startsWith(`${tmpdir()}/`) && !point.startsWith('/run/netns/');
      })
      .map((f) => f.join(' '))
      .sort()
      .join('\n');
  const noMountNs = (c: any) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'mount');
    c.mounts = [];
    c.linux.maskedPaths = [];
    c.linux.readonlyPaths = [];
    c.root.readonly = false;
  };

  test("runs in the host's mount namespace, inside its rootfs, and leaves the host's mounts as they were", () => {
    const b = makeBundle((c) => {
      noMountNs(c);
      c.process.args = ['/bin/sleep', '60'];
    });
    const mountsBefore = hostMounts(b.dir);
    const id = uniqueId('nomnt');
    try {
      ok(b.root, ['create', '-b', b.dir, id]);
      const { pid } = stateOf(b.root, id);
      assert.equal(readlinkSync(`/proc/${pid}/ns/mnt`), readlinkSync('/proc/self/ns/mnt'));
      assert.equal(readlinkSync(`/proc/${pid}/root`), b.rootfs);
      ok(b.root, ['start', id]);
      const r = droplet(b.root, ['exec', id, '/bin/cat', '/etc/passwd']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, readFileSync(join(b.rootfs, 'etc', 'passwd'), 'utf8'), "exec sees the container's root too");
      assert.equal(hostMounts(b.dir), mountsBefore);
    } finally {
      droplet(b.root, ['delete', '-f', id]);
      assert.deepEqual(leftovers(b.root, id, b.dir), []);
      b.cleanup();
    }
    assert.equal(hostMounts(b.dir), mountsBefore);
  });

  test("what would change the host's mount table is refused, naming the field", () => {
    const b = makeBundle();
    try {
      refused(
        b,
        (c) => {
          noMountNs(c);
          c.mounts = [{ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' }];
        },
        /config\.json: mounts\[0\]: needs a new mount namespace \(linux\.namespaces\)$/,
      );
      refused(
        b,
        (c) => {
          noMountNs(c);
          c.root.readonly = true;
        },
        /config\.json: root\.readonly: needs a new mount namespace/,
      );
      refused(
        b,
        (c) => {
          noMountNs(c);
          c.linux.maskedPaths = ['/proc/kcore'];
        },
        /config\.json: linux\.maskedPaths: needs a new mount namespace/,
      );
    } finally {
      b.cleanup();
    }
  });
});
