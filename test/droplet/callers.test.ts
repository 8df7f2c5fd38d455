import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeRootfs } from '../helpers/bundle.js';
import { DROPLET, REPO, testEnv, waitFor } from '../helpers/droplet.js';
import { mountsUnder, processesWith } from '../helpers/leaks.js';

/** Real callers of droplet, as people run them: podman with conmon, and containerd's ctr with
 * the runc shim. Each gets its own storage and state under a temporary folder. */

function sh(cmd: string, args: string[], opts: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, env: testEnv(), ...opts });
  return { code: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

function mustRun(cmd: string, args: string[], opts: SpawnSyncOptions = {}) {
  const r = sh(cmd, args, opts);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** A busybox image as a tar of its rootfs (there is no registry to pull from). */
function busyboxTar(dir: string): string {
  const rootfs = join(dir, 'image-rootfs');
  makeRootfs(rootfs);
  const tar = join(dir, 'busybox.tar');
  mustRun('tar', ['-C', rootfs, '-cf', tar, '.']);
  return tar;
}

describe('podman with conmon runs containers through droplet', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const podman = (args: string[], opts: SpawnSyncOptions = {}) =>
    sh('podman', ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs', ...args], { env, ...opts });
  const ok = (args: string[]) => {
    const r = podman(args);
    assert.equal(r.code, 0, `podman ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'droplet-podman-'));
    /* droplet as podman's runtime; ulimits within this host's hard limits; no systemd here */
    writeFileSync(
      join(dir, 'containers.conf'),
      [
        '[containers]',
        'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]',
        'log_driver = "k8s-file"',
        '[engine]',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        'runtime = "droplet"',
        '[engine.runtimes]',
        `droplet = ["${DROPLET}"]`,
        '',
      ].join('\n'),
    );
    env = { ...testEnv(), CONTAINERS_CONF: join(dir, 'containers.conf') };
    const tar = busyboxTar(dir);
    mustRun(
      'podman',
      ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs', 'import', tar, 'localhost/busybox:test'],
      { env },
    );
  });

  after(() => {
    podman(['rm', '--all', '--force', '--time', '0']);
    podman(['rmi', '--all', '--force']);
    /* podman's own cgroup for conmon, made by this test's podman (droplet removes the containers') */
    for (const h of readdirSync('/sys/fs/cgroup')) {
      for (const d of ['libpod_parent/conmon', 'libpod_parent']) {
        try {
          rmdirSync(join('/sys/fs/cgroup', h, d));
        } catch {
          /* not there, or not empty: someone else's */
        }
      }
    }
    assert.deepEqual(mountsUnder(dir), []);
    assert.deepEqual(processesWith(dir), []);
    rmSync(dir, { recursive: true, force: true });
  });

  test("run --rm prints and exits with the container's code", () => {
    const r = podman(['run', '--rm', '--network', 'none', 'localhost/busybox:test', '/bin/sh', '-c', 'echo hello; echo pid=$$; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'hello\npid=1\n');
  });

  test('run -d, exec, logs, top, pause, unpause, update, stop, restart, kill, rm', () => {
    const name = `c${process.pid}`;
    ok([
      'run',
      '-d',
      '--name',
      name,
      '--network',
      'none',
      'localhost/busybox:test',
      '/bin/sh',
      '-c',
      'echo started; trap "exit 0" TERM; while true; do sleep 0.1; done',
    ]);
    assert.equal(ok(['exec', '-e', 'X=1', '-u', '7', '-w', '/etc', name, '/bin/sh', '-c', 'echo $X $(id -u) $(pwd)']), '1 7 /etc\n');
    assert.equal(ok(['logs', name]), 'started\n');
    assert.match(ok(['top', name]), /\/bin\/sh -c echo started/);
    ok(['pause', name]);
    assert.equal(ok(['inspect', '--format', '{{.State.Status}}', name]).trim(), 'paused');
    ok(['unpause', name]);
    assert.equal(ok(['inspect', '--format', '{{.State.Status}}', name]).trim(), 'running');
    ok(['update', '--memory', '64m', name]);
    const id = ok(['inspect', '--format', '{{.Id}}', name]).trim();
    const limit = join('/sys/fs/cgroup/memory/libpod_parent', `libpod-${id}`, 'memory.limit_in_bytes');
    if (existsSync(limit)) assert.equal(sh('cat', [limit]).stdout.trim(), String(64 * 1024 * 1024));
    ok(['stop', '--time', '5', name]);
    assert.equal(ok(['inspect', '--format', '{{.State.Status}}', name]).trim(), 'exited');
    ok(['restart', name]);
    assert.equal(ok(['inspect', '--format', '{{.State.Status}}', name]).trim(), 'running');
    ok(['kill', name]);
    ok(['rm', '--force', name]);
    assert.equal(podman(['inspect', name]).code, 125);
  });

  test('run -it and exec -it on a terminal', () => {
    const pty = join(REPO, 'test', 'helpers', 'pty-run.py');
    const base = ['podman', '--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs'];
    const it = sh(
      'python3',
      [
        pty,
        '24',
        '80',
        'tty; stty size; exit 5\n',
        ...base,
        'run',
        '--rm',
        '-it',
        '--network',
        'none',
        'localhost/busybox:test',
        '/bin/sh',
      ],
      { env },
    );
    assert.match(it.stdout, /\/dev\/pts\/0\r*\n24 80\r*\n/);
    assert.match(it.stdout, /EXIT 5\n$/);
    const name = `it${process.pid}`;
    ok(['run', '-d', '--name', name, '--network', 'none', 'localhost/busybox:test', 'sleep', '100']);
    const ex = sh('python3', [pty, '30', '100', 'stty size; exit 6\n', ...base, 'exec', '-it', name, '/bin/sh'], { env });
    assert.match(ex.stdout, /30 100\r*\n/);
    assert.match(ex.stdout, /EXIT 6\n$/);
    ok(['rm', '--force', '--time', '0', name]);
  });

  test("droplet's error reaches the podman user", () => {
    const r = podman(['run', '--rm', '--network', 'none', 'localhost/busybox:test', '/bin/no-such-program']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /exec "\/bin\/no-such-program": no such file or directory \(process\.args\[0\]\)/);
  });
});

describe('containerd with the runc shim runs containers through droplet', () => {
  let dir: string;
  let daemon: ChildProcess;
  const ctr = (args: string[]) => sh('ctr', ['--address', join(dir, 'containerd.sock'), ...args]);
  const ok = (args: string[]) => {
    const r = ctr(args);
    assert.equal(r.code, 0, `ctr ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'droplet-containerd-'));
    writeFileSync(
      join(dir, 'config.toml'),
      [
        'version = 2',
        `root = "${join(dir, 'root')}"`,
        `state = "${join(dir, 'state')}"`,
        '[grpc]',
        `  address = "${join(dir, 'containerd.sock')}"`,
        '[plugins."io.containerd.grpc.v1.cri"]',
        '  disable = true',
        '',
      ].join('\n'),
    );
    daemon = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: 'ignore', env: testEnv() });
    await waitFor(() => ctr(['version']).code === 0, 20000, 'containerd to listen');
    /* ctr imports image archives, so the busybox rootfs becomes a one-layer image via podman-free means: a docker archive */
    const image = join(dir, 'image');
    const tar = busyboxTar(dir);
    mustRun('skopeo', ['--insecure-policy', 'copy', `tarball:${tar}`, `docker-archive:${image}.tar:localhost/busybox:test`]);
    ok(['images', 'import', `${image}.tar`]);
  });

  after(async () => {
    ctr(['tasks', 'kill', '--signal', 'SIGKILL', 'd1']);
    ctr(['tasks', 'delete', '--force', 'd1']);
    ctr(['containers', 'delete', 'd1']);
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.on('exit', r));
    assert.deepEqual(mountsUnder(dir), []);
    assert.deepEqual(processesWith(dir), []);
    rmSync(dir, { recursive: true, force: true });
  });

  test('ctr run --rm with an imported image', () => {
    const out = ok([
      'run',
      '--runc-binary',
      DROPLET,
      '--rm',
      'localhost/busybox:test',
      'r1',
      '/bin/sh',
      '-c',
      'echo hello from containerd; echo pid=$$',
    ]);
    assert.equal(out, 'hello from containerd\npid=1\n');
  });

  test('ctr run with a rootfs directory', () => {
    const rootfs = join(dir, 'rootfs');
    makeRootfs(rootfs);
    const out = ok(['run', '--runc-binary', DROPLET, '--rm', '--rootfs', rootfs, 'r2', '/bin/echo', 'from a rootfs']);
    assert.equal(out, 'from a rootfs\n');
  });

  test('task exec, pause, resume, kill and delete', async () => {
    ok([
      'run',
      '-d',
      '--runc-binary',
      DROPLET,
      'localhost/busybox:test',
      'd1',
      '/bin/sh',
      '-c',
      'trap "exit 3" TERM; while true; do sleep 0.1; done',
    ]);
    await waitFor(() => /d1\s+\d+\s+RUNNING/.test(ctr(['tasks', 'ls']).stdout), 10000, 'the task to run');
    assert.equal(ok(['tasks', 'exec', '--exec-id', 'e1', 'd1', '/bin/sh', '-c', 'echo exec $$']).startsWith('exec '), true);
    ok(['tasks', 'pause', 'd1']);
    assert.match(ok(['tasks', 'ls']), /d1\s+\d+\s+PAUSED/);
    ok(['tasks', 'resume', 'd1']);
    ok(['tasks', 'kill', 'd1']);
    await waitFor(() => /d1\s+\d+\s+STOPPED/.test(ctr(['tasks', 'ls']).stdout), 10000, 'the task to stop');
    ok(['tasks', 'delete', 'd1']);
    ok(['containers', 'delete', 'd1']);
  });

  test("droplet's last JSON error line is what containerd reports", () => {
    const r = ctr(['run', '--runc-binary', DROPLET, '--rm', 'localhost/busybox:test', 'r3', '/bin/no-such-program']);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /OCI runtime create failed: create r3: exec "\/bin\/no-such-program": no such file or directory \(process\.args\[0\]\)/,
    );
    ctr(['containers', 'delete', 'r3']);
  });
});

describe('dockerd runs containers through droplet (--add-runtime)', () => {
  let dir: string;
  let daemon: ChildProcess;
  let env: NodeJS.ProcessEnv;
  const docker = (args: string[], opts: SpawnSyncOptions = {}) => sh('docker', args, { env, ...opts });
  const ok = (args: string[]) => {
    const r = docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'droplet-docker-'));
    env = { ...testEnv(), DOCKER_HOST: `unix://${join(dir, 'docker.sock')}` };
    /* no bridge or iptables: these tests do not network, and must not touch the host's */
    daemon = spawn(
      'dockerd',
      [
        '--data-root',
        join(dir, 'data'),
        '--exec-root',
        join(dir, 'exec'),
        '--pidfile',
        join(dir, 'docker.pid'),
        '--host',
        `unix://${join(dir, 'docker.sock')}`,
        '--bridge',
        'none',
        '--iptables=false',
        '--ip6tables=false',
        '--add-runtime',
        `droplet=${DROPLET}`,
      ],
      { stdio: 'ignore', env: testEnv() },
    );
    await waitFor(() => docker(['version']).code === 0, 60000, 'dockerd to listen');
    const image = join(dir, 'image.tar');
    mustRun('skopeo', ['--insecure-policy', 'copy', `tarball:${busyboxTar(dir)}`, `docker-archive:${image}:localhost/busybox:test`]);
    ok(['load', '-i', image]);
  });

  after(async () => {
    docker(['rm', '--force', `d${process.pid}`]);
    docker(['rmi', '--force', 'localhost/busybox:test']);
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.on('exit', r));
    assert.deepEqual(mountsUnder(dir), []);
    assert.deepEqual(processesWith(dir), []);
    rmSync(dir, { recursive: true, force: true });
  });

  test('docker run --runtime droplet, with and without a terminal', () => {
    const r = docker([
      'run',
      '--rm',
      '--runtime',
      'droplet',
      '--network',
      'none',
      'localhost/busybox:test',
      '/bin/sh',
      '-c',
      'echo hello from docker; echo pid=$$; exit 4',
    ]);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, 'hello from docker\npid=1\n');
    const it = sh(
      'python3',
      [
        join(REPO, 'test', 'helpers', 'pty-run.py'),
        '24',
        '80',
        'stty size; exit 2\n',
        'docker',
        'run',
        '--rm',
        '-it',
        '--runtime',
        'droplet',
        '--network',
        'none',
        'localhost/busybox:test',
        '/bin/sh',
      ],
      { env },
    );
    assert.match(it.stdout, /24 80\r*\n/);
    assert.match(it.stdout, /EXIT 2\n$/);
  });

  test('run -d, exec, logs, pause, unpause, stop, rm', () => {
    const name = `d${process.pid}`;
    ok([
      'run',
      '-d',
      '--name',
      name,
      '--runtime',
      'droplet',
      '--network',
      'none',
      'localhost/busybox:test',
      '/bin/sh',
      '-c',
      'trap "exit 0" TERM; echo up; while true; do sleep 0.1; done',
    ]);
    assert.match(ok(['exec', name, '/bin/sh', '-c', 'echo exec $(hostname)']), /^exec [0-9a-f]{12}\n$/);
    assert.equal(ok(['logs', name]), 'up\n');
    ok(['pause', name]);
    assert.equal(ok(['inspect', '-f', '{{.State.Status}}', name]).trim(), 'paused');
    ok(['unpause', name]);
    ok(['stop', name]);
    assert.equal(ok(['inspect', '-f', '{{.State.ExitCode}}', name]).trim(), '0');
    ok(['rm', name]);
  });
});
