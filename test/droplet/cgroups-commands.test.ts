import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseConfig, makeBundle, type Bundle } from '../helpers/bundle.js';
import { keyValues, procState, readCg, v1Dir } from '../helpers/cgroups.js';
import { DROPLET, droplet, ok, stateOf, testEnv, uniqueId, waitFor } from '../helpers/droplet.js';
import { leftovers } from '../helpers/leaks.js';

/** pause/resume, ps, update, events and features on this host's cgroups. */

const MiB = 1024 * 1024;

/** A detached running container of `sh -c script`; fn, then delete -f and check leftovers. */
async function withRunning(b: Bundle, script: string, mutate: (c: any) => void, fn: (id: string, pid: number) => Promise<void> | void) {
  const c = baseConfig();
  c.process.args = ['/bin/sh', '-c', script];
  mutate(c);
  b.write(c);
  const id = uniqueId('cmd');
  ok(b.root, ['run', '-d', '-b', b.dir, id]);
  try {
    await fn(id, stateOf(b.root, id).pid);
  } finally {
    droplet(b.root, ['delete', '-f', id]);
  }
  assert.deepEqual(leftovers(b.root, id, b.dir), []);
}

function failsWith(root: string, args: string[], expected: RegExp): void {
  const r = droplet(root, args);
  assert.notEqual(r.code, 0, `droplet ${args.join(' ')} must fail`);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr.trim(), expected);
}

/** The children of pid (the container's processes below its init). */
function childrenOf(pid: number): number[] {
  return readCg(`/proc/${pid}/task/${pid}`, 'children').split(' ').filter(Boolean).map(Number);
}

describe('pause and resume (the v1 freezer here)', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test('pause freezes every process, state shows paused; resume thaws them', async () => {
    await withRunning(
      b,
      'sleep 60 & sleep 61 & wait',
      () => {},
      async (id, pid) => {
        await waitFor(() => childrenOf(pid).length === 2, 5000, 'both sleeps');
        ok(b.root, ['pause', id]);
        assert.equal(stateOf(b.root, id).status, 'paused');
        assert.equal(readCg(v1Dir('freezer', id), 'freezer.state'), 'FROZEN');
        for (const p of [pid, ...childrenOf(pid)]) assert.equal(procState(p), 'D', `process ${p} is frozen`);
        assert.match(ok(b.root, ['list']).stdout, new RegExp(`${id}\\s+${pid}\\s+paused`));
        failsWith(b.root, ['pause', id], /^droplet: pause .*: cannot pause a container that is paused$/);
        failsWith(b.root, ['start', id], /cannot start a container that is paused/);
        failsWith(b.root, ['delete', id], /cannot delete a paused container \(stop it first, or use --force\)$/);
        ok(b.root, ['resume', id]);
        assert.equal(stateOf(b.root, id).status, 'running');
        assert.equal(readCg(v1Dir('freezer', id), 'freezer.state'), 'THAWED');
        for (const p of [pid, ...childrenOf(pid)]) assert.equal(procState(p), 'S');
        failsWith(b.root, ['resume', id], /^droplet: resume .*: cannot resume a container that is running \(it must be paused\)$/);
      },
    );
  });

  test('a created container can be paused too', async () => {
    const c = baseConfig();
    b.write(c);
    const id = uniqueId('pausec');
    ok(b.root, ['create', '-b', b.dir, id]);
    ok(b.root, ['pause', id]);
    assert.equal(stateOf(b.root, id).status, 'paused');
    ok(b.root, ['resume', id]);
    assert.equal(stateOf(b.root, id).status, 'created');
    ok(b.root, ['delete', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('kill KILL and delete --force work on a paused container', async () => {
    await withRunning(
      b,
      'sleep 60',
      () => {},
      async (id) => {
        ok(b.root, ['pause', id]);
        ok(b.root, ['kill', id, 'KILL']);
        await waitFor(() => stateOf(b.root, id).status === 'stopped', 5000, 'the paused container to die');
      },
    );
    await withRunning(
      b,
      'sleep 60 & sleep 60',
      () => {},
      (id) => {
        ok(b.root, ['pause', id]);
        ok(b.root, ['delete', '--force', id]);
      },
    );
  });

  test('pause of a stopped or unknown container fails', async () => {
    failsWith(b.root, ['pause', 'nope'], /^droplet: pause nope: container nope does not exist$/);
    failsWith(b.root, ['resume'], /^droplet: resume: expects exactly one container id, got 0$/);
    await withRunning(
      b,
      'true',
      () => {},
      async (id) => {
        await waitFor(() => stateOf(b.root, id).status === 'stopped', 5000, 'stopped');
        failsWith(b.root, ['pause', id], /cannot pause a container that is stopped$/);
      },
    );
  });
});

describe('ps', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test('json is the list of the PIDs in the container cgroup; table filters ps -ef', async () => {
    await withRunning(
      b,
      'sleep 60 & sleep 61 & wait',
      () => {},
      async (id, pid) => {
        await waitFor(() => childrenOf(pid).length === 2, 5000, 'both sleeps');
        const expected = [pid, ...childrenOf(pid)].sort((x, y) => x - y);
        assert.deepEqual(JSON.parse(ok(b.root, ['ps', '--format', 'json', id]).stdout), expected);
        assert.deepEqual(JSON.parse(ok(b.root, ['ps', '-f', 'json', id]).stdout), expected);
        const table = ok(b.root, ['ps', id]).stdout.trim().split('\n');
        assert.match(table[0] ?? '', /^UID\s+PID\s+PPID/);
        assert.equal(table.length, 4, table.join('\n'));
        assert.ok(table.some((l) => /\bsleep 61$/.test(l)));
        const custom = ok(b.root, ['ps', id, '-o', 'pid,args']).stdout.trim().split('\n');
        assert.match(custom[0] ?? '', /^\s*PID COMMAND$/);
        assert.deepEqual(
          custom
            .slice(1)
            .map((l) => Number(l.trim().split(/\s+/)[0]))
            .sort((x, y) => x - y),
          expected,
        );
      },
    );
  });

  test('bad arguments', () => {
    failsWith(b.root, ['ps'], /^droplet: ps: expects a container id$/);
    failsWith(
      b.root,
      ['ps', '-f', 'yaml', 'x'],
      /^droplet: ps x: ps: --format must be table or json, not "yaml"$|^droplet: ps: --format must be table or json/,
    );
    failsWith(b.root, ['ps', 'nope'], /^droplet: ps nope: container nope does not exist$/);
  });
});

describe('update', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test('the flags change the cgroup files of a running container', async () => {
    await withRunning(
      b,
      'sleep 60',
      (c) => (c.linux.resources.memory = { limit: 32 * MiB }),
      (id) => {
        ok(b.root, [
          'update',
          '--memory',
          '64m',
          '--memory-swap',
          '128m',
          '--memory-reservation',
          '16777216',
          '--pids-limit',
          '50',
          '--cpu-shares',
          '256',
          '--cpu-quota',
          '20000',
          '--cpu-period',
          '40000',
          '--cpuset-cpus',
          '0',
          '--cpuset-mems',
          '0',
          id,
        ]);
        const mem = v1Dir('memory', id);
        assert.equal(readCg(mem, 'memory.limit_in_bytes'), String(64 * MiB));
        assert.equal(readCg(mem, 'memory.memsw.limit_in_bytes'), String(128 * MiB));
        assert.equal(readCg(mem, 'memory.soft_limit_in_bytes'), String(16 * MiB));
        assert.equal(readCg(v1Dir('pids', id), 'pids.max'), '50');
        assert.equal(readCg(v1Dir('cpu', id), 'cpu.shares'), '256');
        assert.equal(readCg(v1Dir('cpu', id), 'cpu.cfs_quota_us'), '20000');
        assert.equal(readCg(v1Dir('cpu', id), 'cpu.cfs_period_us'), '40000');
        assert.equal(readCg(v1Dir('cpuset', id), 'cpuset.cpus'), '0');
        /* lowering memory and swap together: the kernel needs the limit first */
        ok(b.root, ['update', '--memory', '48m', '--memory-swap', '48m', id]);
        assert.equal(readCg(mem, 'memory.limit_in_bytes'), String(48 * MiB));
        assert.equal(readCg(mem, 'memory.memsw.limit_in_bytes'), String(48 * MiB));
      },
    );
  });

  test('--resources FILE (podman) and --resources - with JSON on stdin (containerd)', async () => {
    await withRunning(
      b,
      'sleep 60',
      () => {},
      (id) => {
        const file = join(b.dir, 'resources.json');
        writeFileSync(file, JSON.stringify({ memory: { limit: 40 * MiB }, pids: { limit: 30 } }));
        ok(b.root, ['update', `--resources=${file}`, id]);
        assert.equal(readCg(v1Dir('memory', id), 'memory.limit_in_bytes'), String(40 * MiB));
        assert.equal(readCg(v1Dir('pids', id), 'pids.max'), '30');
        const r = spawnSync(DROPLET, ['--root', b.root, 'update', '--resources', '-', id], {
          input: JSON.stringify({ cpu: { shares: 300 }, pids: { limit: 20 }, devices: [{ allow: false, access: 'rwm' }] }),
          env: testEnv(),
          encoding: 'utf8',
        });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(readCg(v1Dir('cpu', id), 'cpu.shares'), '300');
        assert.equal(readCg(v1Dir('pids', id), 'pids.max'), '20');
      },
    );
  });

  test('bad values are refused naming the flag or field, and change nothing', async () => {
    await withRunning(
      b,
      'sleep 60',
      (c) => (c.linux.resources.pids = { limit: 40 }),
      (id) => {
        failsWith(
          b.root,
          ['update', '--memory', 'lots', id],
          /^droplet: update: --memory: "lots" is not a size such as 4194304, 512m or 1g$/,
        );
        failsWith(
          b.root,
          ['update', '--cpu-shares', '1', id],
          new RegExp(`^droplet: update ${id}: --cpu-shares: cpu\\.shares: 1 is out of range \\[2, 262144\\]`),
        );
        failsWith(b.root, ['update', '--cpuset-cpus', '0-x', id], /--cpuset-cpus: cpu\.cpus: "0-x" is not a list such as "0-3,5"$/);
        failsWith(b.root, ['update', '--pids-limit=-7', id], /--pids-limit: pids\.limit: -7 is negative \(use -1 for no limit\)$/);
        const file = join(b.dir, 'bad.json');
        writeFileSync(file, JSON.stringify({ memory: { limit: -3 } }));
        failsWith(b.root, ['update', '-r', file, id], new RegExp(`resources file ${file}: memory\\.limit: -3 is negative`));
        writeFileSync(file, '{"memory": ');
        failsWith(b.root, ['update', '-r', file, id], /resources file .*: invalid JSON/);
        failsWith(b.root, ['update', '-r', file, '--memory', '1m', id], /--resources cannot be combined with --memory$/);
        failsWith(b.root, ['update', id], /nothing to update/);
        /* the kernel refuses a limit below what the container already uses */
        failsWith(
          b.root,
          ['update', '--memory', '4096', id],
          /linux\.resources\.memory\.limit: cannot set the memory limit to 4096: the cgroup already uses \d+ bytes$/,
        );
        assert.equal(readCg(v1Dir('pids', id), 'pids.max'), '40');
      },
    );
  });

  test('a stopped container cannot be updated', async () => {
    await withRunning(
      b,
      'true',
      () => {},
      async (id) => {
        await waitFor(() => stateOf(b.root, id).status === 'stopped', 5000, 'stopped');
        failsWith(
          b.root,
          ['update', '--pids-limit', '5', id],
          new RegExp(`^droplet: update ${id}: cannot update a container that is stopped$`),
        );
      },
    );
  });
});

describe('events', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test("--stats prints one stats event in runc's shape", async () => {
    await withRunning(
      b,
      'sleep 60',
      (c) => {
        c.linux.resources.memory = { limit: 64 * MiB };
        c.linux.resources.pids = { limit: 30 };
      },
      (id) => {
        const lines = ok(b.root, ['events', '--stats', id]).stdout.trim().split('\n');
        assert.equal(lines.length, 1);
        const e = JSON.parse(lines[0]!); // one line, checked above
        assert.equal(e.type, 'stats');
        assert.equal(e.id, id);
        const d = e.data;
        assert.equal(d.memory.usage.limit, 64 * MiB);
        assert.ok(d.memory.usage.usage > 0);
        assert.equal(typeof d.memory.raw.cache, 'number');
        assert.equal(d.pids.limit, 30);
        assert.ok(d.pids.current >= 1);
        assert.ok(d.cpu.usage.total > 0);
        assert.ok(Array.isArray(d.cpu.usage.percpu));
        assert.equal(typeof d.cpu.usage.user, 'number');
        assert.deepEqual(d.cpuset.cpus, [0, 1].slice(0, d.cpuset.cpus.length));
        assert.equal(typeof d.hugetlb, 'object');
        assert.equal(typeof d.blkio, 'object');
      },
    );
  });

  test('the stream reports an OOM kill and ends when the container stops', async () => {
    await withRunning(
      b,
      'sleep 1; dd if=/dev/zero of=/dev/null bs=16M count=1; sleep 60',
      (c) => (c.linux.resources.memory = { limit: 4 * MiB, swap: 4 * MiB }),
      async (id) => {
        const child = spawn(DROPLET, ['--root', b.root, 'events', '--interval', '200ms', id], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: testEnv(),
        });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
        const events = () =>
          out
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l));
        await waitFor(() => events().some((e) => e.type === 'oom'), 10000, 'an oom event');
        await waitFor(() => events().filter((e) => e.type === 'stats').length >= 2, 5000, 'stats events');
        assert.deepEqual(
          events().find((e) => e.type === 'oom'),
          { type: 'oom', id },
        );
        assert.equal(keyValues(v1Dir('memory', id), 'memory.oom_control').oom_kill, 1);
        ok(b.root, ['kill', id, 'KILL']);
        assert.equal(await exited, 0);
      },
    );
  });

  test('bad arguments', () => {
    failsWith(b.root, ['events', '--interval', 'soon', 'x'], /--interval: "soon" is not a duration such as "5s" or "500ms"$/);
    failsWith(b.root, ['events', 'nope'], /^droplet: events nope: container nope does not exist$/);
  });
});

describe('features', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test('the runtime-spec features document states what droplet supports', () => {
    const f = JSON.parse(ok(b.root, ['features']).stdout);
    assert.equal(f.ociVersionMin, '1.0.0');
    assert.match(f.ociVersionMax, /^1\.\d+\.\d+$/);
    assert.deepEqual(f.linux.cgroup, { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true });
    for (const o of ['rbind', 'ro', 'nosuid', 'rprivate', 'strictatime']) assert.ok(f.mountOptions.includes(o), o);
    assert.ok(!f.mountOptions.includes('idmap'), 'idmap mounts are refused');
    assert.ok(f.linux.namespaces.includes('cgroup'));
    assert.ok(f.linux.capabilities.includes('CAP_SYS_ADMIN'));
    assert.equal(typeof f.annotations['org.raind.droplet.version'], 'string');
  });

  test('what it says of seccomp matches what create does', () => {
    const f = JSON.parse(ok(b.root, ['features']).stdout);
    const c = baseConfig();
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
    b.write(c);
    const id = uniqueId('feat');
    const r = droplet(b.root, ['create', '-b', b.dir, id]);
    droplet(b.root, ['delete', '-f', id]);
    assert.equal(r.code === 0, f.linux.seccomp.enabled, r.stderr);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });
});
