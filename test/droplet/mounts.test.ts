import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseConfig, makeBundle, type Bundle } from '../helpers/bundle.js';
import { droplet, uniqueId } from '../helpers/droplet.js';
import { leftovers, mountsUnder } from '../helpers/leaks.js';
import { configWith, expectRefused } from '../helpers/refused.js';

function run(b: Bundle, script: string, mutate?: (c: any) => void) {
  const c = baseConfig();
  c.process.args = ['/bin/sh', '-c', script];
  mutate?.(c);
  b.write(c);
  const id = uniqueId('mnt');
  const r = droplet(b.root, ['run', '-b', b.dir, id]);
  assert.deepEqual(leftovers(b.root, id, b.dir), []);
  return r;
}

describe('mounts', () => {
  let b: Bundle;
  let hostDir: string;
  before(() => {
    b = makeBundle();
    hostDir = join(b.dir, 'host-data');
    mkdirSync(join(hostDir, 'inner'), { recursive: true });
    writeFileSync(join(hostDir, 'file'), 'from the host\n');
  });
  after(() => b.cleanup());

  test('mounts are made in order, with their types and options, creating mount points', () => {
    const r = run(
      b,
      'grep -E " /(data|data/inner|one-file|scratch) " /proc/self/mountinfo | cut -d" " -f5,6,9; cat /data/file /one-file; touch /data/x 2>/dev/null || echo ro',
      (c) => {
        c.mounts.push(
          { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'size=1m'] },
          { destination: '/data', type: 'bind', source: hostDir, options: ['rbind', 'ro', 'nosuid'] },
          { destination: '/data/inner', type: 'tmpfs', source: 'tmpfs', options: ['ro'] },
          { destination: '/one-file', type: 'bind', source: join(hostDir, 'file'), options: ['bind'] },
        );
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0] ?? '', /^\/scratch rw,nosuid,nodev,noexec,relatime tmpfs$/);
    assert.match(lines[1] ?? '', /^\/data ro,nosuid,relatime \S+$/);
    assert.match(lines[2] ?? '', /^\/data\/inner ro,relatime tmpfs$/);
    assert.match(lines[3] ?? '', /^\/one-file rw,relatime \S+$/);
    assert.equal(lines.slice(4).join('\n'), 'from the host\nfrom the host\nro\n');
    /* the bind mount's mount point was created inside the rootfs, the host dir untouched */
    assert.ok(existsSync(join(b.rootfs, 'data')));
    assert.ok(!existsSync(join(hostDir, 'x')));
  });

  test('the cgroup mount shows the container its own cgroup', () => {
    const r = run(
      b,
      'ls /sys/fs/cgroup | grep -c .; cat /proc/self/cgroup | grep -c ":/$"; cat /sys/fs/cgroup/pids/cgroup.procs | wc -l; touch /sys/fs/cgroup/x 2>/dev/null || echo ro',
    );
    assert.equal(r.code, 0, r.stderr);
    const [hierarchies, rooted, procs, ro] = r.stdout.trim().split('\n');
    assert.ok(Number(hierarchies) >= 1, r.stdout);
    /* in its own cgroup namespace every hierarchy's root is the container's cgroup */
    assert.equal(rooted, hierarchies);
    assert.ok(Number(procs) >= 1 && Number(procs) <= 5, r.stdout);
    assert.equal(ro, 'ro');
  });

  test('without a cgroup namespace the container cgroup is bind-mounted', () => {
    const r = run(b, 'cat /sys/fs/cgroup/pids/cgroup.procs | wc -l; ls /sys/fs/cgroup/pids | grep -c "^droplet$"; true', (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'cgroup');
    });
    assert.equal(r.code, 0, r.stderr);
    const [procs, hostTree] = r.stdout.trim().split('\n');
    assert.ok(Number(procs) >= 1 && Number(procs) <= 5, r.stdout);
    assert.equal(hostTree, '0', 'the host cgroup tree is not visible');
  });
});

describe('paths in the bundle cannot escape the rootfs', () => {
  let b: Bundle;
  const canary = `/etc/droplet-escape-${process.pid}`;
  before(() => {
    b = makeBundle();
    /* an absolute symlink to the host's /etc, and a relative one climbing out */
    symlinkSync('/etc', join(b.rootfs, 'abs-link'));
    symlinkSync('../../../../../../../../etc', join(b.rootfs, 'rel-link'));
    mkdirSync(join(b.rootfs, 'etc'), { recursive: true });
  });
  after(() => b.cleanup());

  test('mount destinations through symlinks land inside the rootfs', () => {
    const name = canary.slice('/etc/'.length);
    const r = run(b, `grep -c " /etc/${name}-[ab] " /proc/self/mountinfo`, (c) => {
      c.root.readonly = false;
      c.mounts.push(
        { destination: `/abs-link/${name}-a`, type: 'tmpfs', source: 'tmpfs' },
        { destination: `/rel-link/${name}-b`, type: 'tmpfs', source: 'tmpfs' },
      );
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '2\n');
    assert.ok(!existsSync(`${canary}-a`) && !existsSync(`${canary}-b`), 'nothing created in the host /etc');
    assert.ok(existsSync(join(b.rootfs, 'etc', `${name}-a`)) && existsSync(join(b.rootfs, 'etc', `${name}-b`)));
    assert.deepEqual(mountsUnder('/etc/droplet-escape'), []);
  });

  test('a /dev that is a symlink out of the rootfs gets its devices inside', () => {
    const c2 = makeBundle();
    try {
      const hostDev = join(c2.dir, 'outside-dev');
      mkdirSync(hostDev);
      const { rmSync } = require('node:fs') as typeof import('node:fs');
      rmSync(join(c2.rootfs, 'dev'), { recursive: true });
      symlinkSync(hostDev, join(c2.rootfs, 'dev'));
      const c = baseConfig();
      c.root.readonly = false;
      c.mounts = c.mounts.filter((m: any) => !m.destination.startsWith('/dev'));
      c.process.args = ['/bin/sh', '-c', 'ls /dev/null'];
      c2.write(c);
      const id = uniqueId('dev');
      const r = droplet(c2.root, ['run', '-b', c2.dir, id]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(require('node:fs').readdirSync(hostDev), [], 'the host directory the symlink names stays empty');
      assert.deepEqual(leftovers(c2.root, id, c2.dir), []);
    } finally {
      c2.cleanup();
    }
  });

  test('masked and read-only paths through symlinks stay inside', () => {
    const r = run(b, 'echo ok', (c) => {
      c.root.readonly = false;
      c.linux.maskedPaths.push('/abs-link/passwd');
      c.linux.readonlyPaths.push('/rel-link');
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync('/etc/passwd', 'utf8').length > 0, true);
    assert.deepEqual(mountsUnder('/etc'), []);
  });

  test('a cwd through a symlink is created inside the rootfs', () => {
    const name = `droplet-cwd-${process.pid}`;
    const r = run(b, 'pwd', (c) => {
      c.root.readonly = false;
      c.process.cwd = `/abs-link/${name}`;
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(`/etc/${name}`));
    assert.ok(existsSync(join(b.rootfs, 'etc', name)));
  });
});

describe('linux.devices never destroy what the bundle holds', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  /* no /dev tmpfs: the devices are made in the rootfs's own /dev */
  const ownDev = (c: any) => {
    c.root.readonly = false;
    c.mounts = c.mounts.filter((m: any) => !m.destination.startsWith('/dev'));
  };

  test('a device path that is a regular file in the rootfs: the file is kept, the device mounted over it', () => {
    const file = join(b.rootfs, 'dev', 'null');
    writeFileSync(file, 'bundle content\n');
    const r = run(b, 'test -c /dev/null && echo char; echo discarded > /dev/null; wc -c < /dev/null', (c) => {
      ownDev(c);
      c.linux.devices = [{ path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666 }];
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'char\n0\n');
    assert.ok(lstatSync(file).isFile(), 'still a regular file in the bundle');
    assert.equal(readFileSync(file, 'utf8'), 'bundle content\n');
  });

  test('a file in the way of a device the host does not have at that path: refused, the file kept', () => {
    const file = join(b.rootfs, 'dev', 'droplet-test-device');
    writeFileSync(file, 'bundle content\n');
    b.write(
      configWith((c) => {
        ownDev(c);
        c.linux.devices = [{ path: '/dev/droplet-test-device', type: 'c', major: 1, minor: 3 }];
      }),
    );
    expectRefused(
      b,
      undefined,
      /create device \/dev\/droplet-test-device: a regular file of the rootfs is in the way.* \(linux\.devices\[0\]\)$/,
    );
    assert.equal(readFileSync(file, 'utf8'), 'bundle content\n');
  });
});
