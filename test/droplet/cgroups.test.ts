import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseConfig, makeBundle, type Bundle } from '../helpers/bundle.js';
import { cgroupsAt, keyValues, readCg, removeCgroupEverywhere, v1Dir } from '../helpers/cgroups.js';
import { droplet, ok, stateOf, uniqueId, waitFor } from '../helpers/droplet.js';
import { leftovers } from '../helpers/leaks.js';
import { configWith, expectRefused } from '../helpers/refused.js';

/** linux.resources on this host's cgroup v1 hierarchies: each value read back from the
 * container's cgroup files, and where it can be seen, its effect inside the container. */

const MiB = 1024 * 1024;

const config = configWith;

/** create, then fn while the container exists, then delete and check nothing is left. */
function withCreated(b: Bundle, mutate: (c: any) => void, fn: (id: string) => void): void {
  b.write(config(mutate));
  const id = uniqueId('cg');
  ok(b.root, ['create', '-b', b.dir, id]);
  try {
    fn(id);
  } finally {
    droplet(b.root, ['delete', '-f', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  }
}

/** run in the foreground; returns exit code and output, after checking nothing is left. */
function runWith(b: Bundle, args: string[], mutate: (c: any) => void) {
  b.write(
    config((c) => {
      c.process.args = args;
      mutate(c);
    }),
  );
  const id = uniqueId('cgrun');
  const r = droplet(b.root, ['run', '-b', b.dir, id]);
  assert.deepEqual(leftovers(b.root, id, b.dir), []);
  return r;
}

/** create must fail with one line naming the field, and leave nothing behind. */
function refused(b: Bundle, mutate: (c: any) => void, expected: RegExp): string {
  return expectRefused(b, config(mutate), expected);
}

describe('linux.resources on cgroup v1: values read back from the cgroup files', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test('memory: limit, reservation, swap, swappiness, disableOOMKiller, kernelTCP', () => {
    withCreated(
      b,
      (c) => {
        c.linux.resources.memory = {
          limit: 64 * MiB,
          reservation: 32 * MiB,
          swap: 128 * MiB,
          swappiness: 10,
          disableOOMKiller: true,
          kernelTCP: 16 * MiB,
        };
      },
      (id) => {
        const d = v1Dir('memory', id);
        assert.equal(readCg(d, 'memory.limit_in_bytes'), String(64 * MiB));
        assert.equal(readCg(d, 'memory.soft_limit_in_bytes'), String(32 * MiB));
        assert.equal(readCg(d, 'memory.memsw.limit_in_bytes'), String(128 * MiB));
        assert.equal(readCg(d, 'memory.swappiness'), '10');
        assert.equal(keyValues(d, 'memory.oom_control').oom_kill_disable, 1);
        assert.equal(readCg(d, 'memory.kmem.tcp.limit_in_bytes'), String(16 * MiB));
      },
    );
  });

  test('memory: a swap limit below the memory limit is set in the order the kernel needs', () => {
    withCreated(
      b,
      (c) => (c.linux.resources.memory = { limit: 32 * MiB, swap: 32 * MiB }),
      (id) => {
        const d = v1Dir('memory', id);
        assert.equal(readCg(d, 'memory.limit_in_bytes'), String(32 * MiB));
        assert.equal(readCg(d, 'memory.memsw.limit_in_bytes'), String(32 * MiB));
      },
    );
  });

  test('memory.kernel: deprecated by the runtime-spec, ignored with a warning that names it, as runc does', () => {
    b.write(config((c) => (c.linux.resources.memory = { limit: 64 * MiB, kernel: 8 * MiB })));
    const id = uniqueId('kmem');
    const r = droplet(b.root, ['create', '-b', b.dir, id]);
    try {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stderr,
        'droplet: warning: linux.resources.memory.kernel: ignored: kernel memory limits are deprecated (the kernel counts kernel memory in the memory limit)\n',
      );
      assert.equal(readCg(v1Dir('memory', id), 'memory.limit_in_bytes'), String(64 * MiB));
    } finally {
      droplet(b.root, ['delete', '-f', id]);
      assert.deepEqual(leftovers(b.root, id, b.dir), []);
    }
  });

  test('cpu: shares, quota, period, burst; cpuset: cpus, mems', () => {
    withCreated(
      b,
      (c) => {
        c.linux.resources.cpu = { shares: 512, quota: 25000, period: 50000, burst: 1000, cpus: '0', mems: '0' };
      },
      (id) => {
        const d = v1Dir('cpu', id);
        assert.equal(readCg(d, 'cpu.shares'), '512');
        assert.equal(readCg(d, 'cpu.cfs_quota_us'), '25000');
        assert.equal(readCg(d, 'cpu.cfs_period_us'), '50000');
        assert.equal(readCg(d, 'cpu.cfs_burst_us'), '1000');
        assert.equal(readCg(v1Dir('cpuset', id), 'cpuset.cpus'), '0');
        assert.equal(readCg(v1Dir('cpuset', id), 'cpuset.mems'), '0');
      },
    );
  });

  test('cpu.idle', () => {
    withCreated(
      b,
      (c) => (c.linux.resources.cpu = { idle: 1 }),
      (id) => assert.equal(readCg(v1Dir('cpu', id), 'cpu.idle'), '1'),
    );
  });

  test('cpu realtime runtime and period, under a parent that has realtime runtime to give', () => {
    const parent = `/droplet-rt-${process.pid}`;
    mkdirSync(join('/sys/fs/cgroup/cpu', parent));
    try {
      writeFileSync(join('/sys/fs/cgroup/cpu', parent, 'cpu.rt_runtime_us'), '10000');
      const id = uniqueId('rt');
      b.write(
        config((c) => {
          c.linux.cgroupsPath = `${parent}/${id}`;
          c.linux.resources.cpu = { realtimePeriod: 1000000, realtimeRuntime: 5000 };
        }),
      );
      ok(b.root, ['create', '-b', b.dir, id]);
      const d = join('/sys/fs/cgroup/cpu', parent, id);
      assert.equal(readCg(d, 'cpu.rt_period_us'), '1000000');
      assert.equal(readCg(d, 'cpu.rt_runtime_us'), '5000');
      ok(b.root, ['delete', '-f', id]);
      assert.deepEqual(cgroupsAt(`${parent}/${id}`), []);
      assert.deepEqual(leftovers(b.root, id, b.dir), []);
    } finally {
      removeCgroupEverywhere(parent);
    }
    assert.deepEqual(cgroupsAt(parent), []);
  });

  test('cpu realtime runtime where the parent has none: the error says so', () => {
    refused(
      b,
      (c) => (c.linux.resources.cpu = { realtimeRuntime: 5000 }),
      /linux\.resources\.cpu\.realtimeRuntime: write "5000" to .*cpu\.rt_runtime_us: invalid argument \(the parent cgroup's cpu\.rt_runtime_us is 0\)$/,
    );
  });

  test('pids.limit, and -1 for no limit', () => {
    withCreated(
      b,
      (c) => (c.linux.resources.pids = { limit: 100 }),
      (id) => assert.equal(readCg(v1Dir('pids', id), 'pids.max'), '100'),
    );
    withCreated(
      b,
      (c) => (c.linux.resources.pids = { limit: -1 }),
      (id) => assert.equal(readCg(v1Dir('pids', id), 'pids.max'), 'max'),
    );
  });

  test('blockIO: weight (blkio.weight or the BFQ file) and throttles', () => {
    const vda = readFileSync('/proc/partitions', 'utf8')
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .find((f) => /^\d+$/.test(f[0] ?? ''))!;
    const [major, minor] = [Number(vda[0]), Number(vda[1])];
    withCreated(
      b,
      (c) => {
        c.linux.resources.blockIO = {
          weight: 200,
          throttleReadBpsDevice: [{ major, minor, rate: MiB }],
          throttleWriteBpsDevice: [{ major, minor, rate: 2 * MiB }],
          throttleReadIOPSDevice: [{ major, minor, rate: 100 }],
          throttleWriteIOPSDevice: [{ major, minor, rate: 50 }],
        };
      },
      (id) => {
        const d = v1Dir('blkio', id);
        const weightFile = existsSync(join(d, 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight';
        assert.equal(readCg(d, weightFile), '200');
        assert.equal(readCg(d, 'blkio.throttle.read_bps_device'), `${major}:${minor} ${MiB}`);
        assert.equal(readCg(d, 'blkio.throttle.write_bps_device'), `${major}:${minor} ${2 * MiB}`);
        assert.equal(readCg(d, 'blkio.throttle.read_iops_device'), `${major}:${minor} 100`);
        assert.equal(readCg(d, 'blkio.throttle.write_iops_device'), `${major}:${minor} 50`);
      },
    );
  });

  test('devices: the rules in devices.list', () => {
    withCreated(
      b,
      (c) => c.linux.resources.devices.push({ allow: true, type: 'b', major: 7, minor: 0, access: 'r' }),
      (id) => {
        const list = readCg(v1Dir('devices', id), 'devices.list').split('\n');
        assert.ok(list.includes('b 7:0 r'), list.join('|'));
        assert.ok(list.includes('c 1:3 rwm'), list.join('|'));
        assert.ok(!list.includes('a *:* rwm'), 'the config starts with deny all');
      },
    );
  });

  test('unified: written to the cgroup2 mount on this hybrid host', () => {
    withCreated(
      b,
      (c) => (c.linux.resources.unified = { 'cgroup.max.descendants': '5' }),
      (id) => assert.equal(readCg(join('/sys/fs/cgroup/unified/droplet', id), 'cgroup.max.descendants'), '5'),
    );
  });

  test('controllers this host lacks are errors, not silent skips', () => {
    const has = (c: string) => existsSync(join('/sys/fs/cgroup', c));
    if (!has('hugetlb'))
      refused(
        b,
        (c) => (c.linux.resources.hugepageLimits = [{ pageSize: '2MB', limit: 4 * MiB }]),
        /linux\.resources\.hugepageLimits: this host has no cgroup v1 hugetlb controller$/,
      );
    if (!has('net_cls') && !has('net_cls,net_prio'))
      refused(
        b,
        (c) => (c.linux.resources.network = { classID: 0x100001 }),
        /linux\.resources\.network\.classID: this host has no cgroup v1 net_cls controller$/,
      );
    if (!has('rdma'))
      refused(
        b,
        (c) => (c.linux.resources.rdma = { mlx5_0: { hcaHandles: 2 } }),
        /linux\.resources\.rdma: this host has no cgroup v1 rdma controller$/,
      );
    /* the cgroup2 mount here has no controllers enabled */
    refused(
      b,
      (c) => (c.linux.resources.unified = { 'memory.high': '1000000' }),
      /linux\.resources\.unified\.memory\.high: the memory controller is not enabled for \/sys\/fs\/cgroup\/unified\/droplet\//,
    );
  });
});

describe('linux.resources on cgroup v1: effects inside the container', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test('with a 4 MiB memory limit /bin/true runs, and the init was in the cgroup before it ran', () => {
    withCreated(
      b,
      (c) => (c.linux.resources.memory = { limit: 4 * MiB, swap: 4 * MiB }),
      (id) => {
        const { pid } = stateOf(b.root, id);
        assert.ok(readCg(v1Dir('memory', id), 'cgroup.procs').split('\n').includes(String(pid)));
        assert.match(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), new RegExp(`:memory:/droplet/${id}\\n`));
        /* the init's own setup (mounts, devices, pivot_root) was charged to the container */
        assert.ok(Number(readCg(v1Dir('memory', id), 'memory.max_usage_in_bytes')) > 0);
      },
    );
    const r = runWith(b, ['/bin/true'], (c) => (c.linux.resources.memory = { limit: 4 * MiB, swap: 4 * MiB }));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  test('a process that allocates past the limit is OOM-killed, and run says so', () => {
    const r = runWith(
      b,
      ['/bin/dd', 'if=/dev/zero', 'of=/dev/null', 'bs=16M', 'count=1'],
      (c) => (c.linux.resources.memory = { limit: 4 * MiB, swap: 4 * MiB }),
    );
    assert.equal(r.code, 137, r.stderr);
    assert.match(r.stderr, /^droplet: warning: the OOM killer killed 1 process of the container: it reached its memory limit$/m);
  });

  test('pids.limit stops a fork loop', () => {
    const r = runWith(
      b,
      ['/bin/sh', '-c', 'for i in $(seq 30); do sleep 5 & done; echo all-forked'],
      (c) => (c.linux.resources.pids = { limit: 8 }),
    );
    assert.match(r.stderr, /can't fork: Resource temporarily unavailable/);
    assert.doesNotMatch(r.stdout, /all-forked/);
  });

  test('pids.max holds a detached fork loop at the limit', async () => {
    b.write(
      config((c) => {
        c.process.args = ['/bin/sh', '-c', 'while :; do sleep 30 & done'];
        c.linux.resources.pids = { limit: 8 };
      }),
    );
    const id = uniqueId('forks');
    ok(b.root, ['run', '-d', '-b', b.dir, id]);
    try {
      const d = v1Dir('pids', id);
      await waitFor(() => (keyValues(d, 'pids.events').max ?? 0) > 0, 5000, 'the fork loop to hit pids.max');
      assert.ok(Number(readCg(d, 'pids.current')) <= 8);
    } finally {
      ok(b.root, ['delete', '-f', id]);
    }
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('a device the rules deny cannot be opened; an allowed one only with its access', () => {
    const mknod = (c: any) => {
      for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_MKNOD');
    };
    const script = 'mknod /dev/loop-test b 7 0 && { : < /dev/loop-test && echo read-ok; : > /dev/loop-test && echo write-ok; }; true';
    const denied = runWith(b, ['/bin/sh', '-c', script], mknod);
    assert.equal(denied.stdout, '');
    assert.match(denied.stderr, /can't open \/dev\/loop-test: Operation not permitted/);
    const readOnly = runWith(b, ['/bin/sh', '-c', script], (c) => {
      mknod(c);
      c.linux.resources.devices.push({ allow: true, type: 'b', major: 7, minor: 0, access: 'r' });
    });
    assert.equal(readOnly.stdout, 'read-ok\n');
    assert.match(readOnly.stderr, /can't create \/dev\/loop-test: Operation not permitted/);
  });

  test('cpuset.cpus limits where the container may run', () => {
    const r = runWith(b, ['/bin/sh', '-c', 'grep Cpus_allowed_list /proc/self/status'], (c) => (c.linux.resources.cpu = { cpus: '0' }));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Cpus_allowed_list:\s+0$/m);
  });

  test('a CPU quota throttles a busy loop', () => {
    b.write(
      config((c) => {
        c.process.args = ['/bin/sh', '-c', 'timeout 1 sh -c "while :; do :; done"; true'];
        c.linux.resources.cpu = { quota: 10000, period: 100000 };
      }),
    );
    const id = uniqueId('quota');
    ok(b.root, ['create', '-b', b.dir, id]);
    try {
      const d = v1Dir('cpu', id);
      ok(b.root, ['start', id]);
      const until = Date.now() + 5000;
      while (Date.now() < until && keyValues(d, 'cpu.stat').nr_throttled === 0)
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      assert.ok((keyValues(d, 'cpu.stat').nr_throttled ?? 0) > 0, readCg(d, 'cpu.stat'));
    } finally {
      ok(b.root, ['delete', '-f', id]);
    }
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });
});

describe('invalid linux.resources are refused at create, naming the field', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  const cases: Array<[string, (r: any) => void, RegExp]> = [
    [
      'a negative memory limit',
      (r) => (r.memory = { limit: -5 }),
      /config\.json: linux\.resources\.memory\.limit: -5 is negative \(use -1 for no limit\)$/,
    ],
    [
      'a swap limit below the memory limit',
      (r) => (r.memory = { limit: 8 * MiB, swap: 4 * MiB }),
      /linux\.resources\.memory\.swap: 4194304 is below memory\.limit 8388608/,
    ],
    [
      'swappiness above 100',
      (r) => (r.memory = { swappiness: 101 }),
      /linux\.resources\.memory\.swappiness: 101 is out of range \[0, 100\]$/,
    ],
    [
      'a memory limit that is not a number',
      (r) => (r.memory = { limit: '4m' }),
      /linux\.resources\.memory\.limit: expected integer, got string$/,
    ],
    [
      'an unknown device type',
      (r) => r.devices.push({ allow: true, type: 'x' }),
      /linux\.resources\.devices\[1\]\.type: unknown device type "x"$/,
    ],
    [
      'device access that is not rwm',
      (r) => r.devices.push({ allow: true, type: 'c', access: 'rwx' }),
      /linux\.resources\.devices\[1\]\.access: "rwx" is not a combination of r, w and m$/,
    ],
    [
      'a cpus list that does not parse',
      (r) => (r.cpu = { cpus: '0-' }),
      /linux\.resources\.cpu\.cpus: "0-" is not a list such as "0-3,5"$/,
    ],
    [
      'a backwards cpu range',
      (r) => (r.cpu = { mems: '3-1' }),
      /linux\.resources\.cpu\.mems: "3-1" is a range that ends before it starts$/,
    ],
    ['cpu shares out of range', (r) => (r.cpu = { shares: 1 }), /linux\.resources\.cpu\.shares: 1 is out of range \[2, 262144\]/],
    ['a quota under 1 ms', (r) => (r.cpu = { quota: 500 }), /linux\.resources\.cpu\.quota: 500 is below the minimum 1000$/],
    [
      'a period over 1 s',
      (r) => (r.cpu = { period: 2_000_000 }),
      /linux\.resources\.cpu\.period: 2000000 is out of range \[1000, 1000000\]/,
    ],
    ['pids without a limit', (r) => (r.pids = {}), /linux\.resources\.pids\.limit: is required$/],
    [
      'a blkio weight out of range',
      (r) => (r.blockIO = { weight: 5 }),
      /linux\.resources\.blockIO\.weight: 5 is out of range \[10, 1000\]/,
    ],
    [
      'a throttle without a rate',
      (r) => (r.blockIO = { throttleReadBpsDevice: [{ major: 8, minor: 0 }] }),
      /linux\.resources\.blockIO\.throttleReadBpsDevice\[0\]\.rate: is required$/,
    ],
    [
      'a huge page size that is not one',
      (r) => (r.hugepageLimits = [{ pageSize: '2M', limit: 1 }]),
      /linux\.resources\.hugepageLimits\[0\]\.pageSize: "2M" is not a page size such as "2MB" or "1GB"$/,
    ],
    [
      'a unified key that is a path',
      (r) => (r.unified = { '../memory.max': '1' }),
      /linux\.resources\.unified\.\.\.\/memory\.max: is not a cgroup file name/,
    ],
    ['an unknown resource', (r) => (r.memroy = { limit: 1 }), /linux\.resources\.memroy: unknown resource$/],
  ];
  for (const [what, mutate, expected] of cases)
    test(what, () => {
      refused(b, (c) => mutate(c.linux.resources), expected);
    });

  test('--systemd-cgroup is refused with one line', () => {
    b.write(baseConfig());
    const id = uniqueId('sd');
    const r = droplet(b.root, ['--systemd-cgroup', 'create', '-b', b.dir, id]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /^droplet: --systemd-cgroup is not supported: (systemd is not running on this host|droplet does not implement the systemd cgroup driver)/,
    );
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });
});
