import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseConfig, makeBundle, makeRootfs, type Bundle } from '../helpers/bundle.js';
import { REPO, testEnv, uniqueId } from '../helpers/droplet.js';
import { leftovers, mountsUnder, processesWith } from '../helpers/leaks.js';

/** scripts/install.sh, and an install moved to another prefix: what ships must run with no
 * checkout behind it. */

function sh(cmd: string, args: string[], opts: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, env: testEnv(), ...opts });
  return { code: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

function mustRun(cmd: string, args: string[], opts: SpawnSyncOptions = {}) {
  const r = sh(cmd, args, opts);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** Runs a command in a mount namespace of its own where the checkout is an empty directory:
 * neither its build output nor any path the executable was built from can be reached. */
function withoutCheckout(cmd: string, args: string[], opts: SpawnSyncOptions = {}) {
  const script = 'mount -t tmpfs -o size=4k none "$1" && ! test -e "$1/package.json" || exit 99; shift; exec "$@"';
  const r = sh('unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', script, 'sh', REPO, cmd, ...args], opts);
  assert.notEqual(r.code, 99, 'the checkout could not be hidden');
  return r;
}

describe('an installed droplet, moved to another prefix', () => {
  let dir: string;
  let prefix: string;
  let b: Bundle;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'droplet-install-'));
    const first = join(dir, 'first');
    mustRun('bash', [join(REPO, 'scripts', 'install.sh'), first]);
    prefix = join(dir, 'moved');
    mustRun('cp', ['-a', first, prefix]);
    rmSync(first, { recursive: true, force: true });
    b = makeBundle();
  });

  after(() => {
    b.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('install.sh puts the executable in bin/ and its helpers in libexec/raind/', () => {
    assert.deepEqual(readdirSync(join(prefix, 'bin')).sort(), ['droplet', 'raind']);
    assert.equal(readlinkSync(join(prefix, 'bin', 'raind')), 'droplet', 'raind is the same executable');
    assert.deepEqual(readdirSync(join(prefix, 'libexec', 'raind')).sort(), ['droplet-init', 'droplet_native.node']);
    for (const f of [join(prefix, 'bin', 'droplet'), join(prefix, 'libexec', 'raind', 'droplet-init')])
      assert.equal(statSync(f).mode & 0o111, 0o111, `${f} is executable`);
  });

  test('it runs a container with the checkout out of reach, through a link in another directory', () => {
    const path = join(dir, 'path');
    mkdirSync(path);
    symlinkSync(join(prefix, 'bin', 'droplet'), join(path, 'droplet'));
    const c = baseConfig();
    c.process.args = ['/bin/sh', '-c', 'echo hello from $(hostname); exit 5'];
    b.write(c);
    const id = uniqueId('inst');
    const r = withoutCheckout(join(path, 'droplet'), ['--root', b.root, 'run', '-b', b.dir, id], { cwd: dir });
    assert.equal(r.code, 5, r.stderr);
    assert.equal(r.stdout, 'hello from droplet-test\n');
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('podman runs containers with --runtime PREFIX/bin/droplet', () => {
    const storage = join(dir, 'podman');
    mkdirSync(storage);
    writeFileSync(
      join(storage, 'containers.conf'),
      [
        '[containers]',
        'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]',
        'log_driver = "k8s-file"',
        '[engine]',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        '',
      ].join('\n'),
    );
    const env = { ...testEnv(), CONTAINERS_CONF: join(storage, 'containers.conf') };
    const podman = [
      '--root',
      join(storage, 'root'),
      '--runroot',
      join(storage, 'run'),
      '--storage-driver',
      'vfs',
      '--runtime',
      join(prefix, 'bin', 'droplet'),
    ];
    const rootfs = join(storage, 'image-rootfs');
    makeRootfs(rootfs);
    mustRun('tar', ['-C', rootfs, '-cf', join(storage, 'busybox.tar'), '.']);
    try {
      mustRun('podman', [...podman, 'import', join(storage, 'busybox.tar'), 'localhost/busybox:install'], { env });
      const r = withoutCheckout(
        'podman',
        [...podman, 'run', '--rm', '--network', 'none', 'localhost/busybox:install', '/bin/sh', '-c', 'echo pid=$$; exit 6'],
        { env, cwd: dir },
      );
      assert.equal(r.code, 6, r.stderr);
      assert.equal(r.stdout, 'pid=1\n');
    } finally {
      sh('podman', [...podman, 'rm', '--all', '--force', '--time', '0'], { env });
      sh('podman', [...podman, 'rmi', '--all', '--force'], { env });
      /* podman's cgroup for conmon, if this podman made it and nobody else uses it */
      for (const h of readdirSync('/sys/fs/cgroup')) {
        for (const d of ['libpod_parent/conmon', 'libpod_parent']) {
          try {
            rmdirSync(join('/sys/fs/cgroup', h, d));
          } catch {
            /* not there, or not empty: someone else's */
          }
        }
      }
    }
    assert.deepEqual(mountsUnder(storage), []);
    assert.deepEqual(processesWith(storage), []);
  });
});
