import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readResources, type Resources } from '../../src/oci/resources.js';
import { applyResources, createCgroups, isPaused, resourcesVersion } from '../../src/linux/cgroups/manager.js';
import type { CgroupDir } from '../../src/linux/cgroups/container-cgroup.js';
import { freeze, freezerState, thaw } from '../../src/linux/cgroups/freezer.js';
import { statsJson } from '../../src/linux/cgroups/stats.js';
import { statsV2 } from '../../src/linux/cgroups/v2/stats.js';
import { applyV1Resources } from '../../src/linux/cgroups/v1/resources.js';
import { blkioWeightToIoWeight, cpuMax, cpuSharesToWeight, memorySwapToV2 } from '../../src/linux/cgroups/v2/convert.js';
import { applyV2Resources } from '../../src/linux/cgroups/v2/resources.js';
import { attachDeviceFilter, deviceFilterIds } from '../../src/linux/cgroups/v2/device-filter.js';
import { ACC, DEV_TYPE, containerDeviceRules, deviceFilterProgram, encodeProgram } from '../../src/linux/cgroups/v2/devices-bpf.js';
import type { DeviceRule } from '../../src/oci/spec.js';
import { spawnSync } from 'node:child_process';
import type { Hierarchy } from '../../src/linux/cgroups/hierarchy.js';
import { baseConfig, makeBundle, type Bundle } from '../helpers/bundle.js';
import { fakeCgroup, fakeV2Cgroup, keyValues, procState, readCg, unifiedTestCgroup, UNIFIED } from '../helpers/cgroups.js';
import { droplet, ok, stateOf, uniqueId, waitFor } from '../helpers/droplet.js';
import { leftovers } from '../helpers/leaks.js';

/** cgroup v2: the conversions and the controller files, checked in fake v2 directories (this
 * host's cgroup2 mount has no controllers); freeze, placement and removal on the real mount. */

const MiB = 1024 * 1024;
const res = (raw: object): Resources => readResources(raw, 'linux.resources.');

describe('v1 -> v2 conversions, as runc and crun', () => {
  test('cpu.shares -> cpu.weight: the default 1024 shares is the default weight 100 (runc 1.3.2+, crun 1.23+)', () => {
    assert.deepEqual([2, 3, 512, 1024, 2000, 2048, 262143, 262144].map(cpuSharesToWeight), [1, 2, 59, 100, 170, 174, 10000, 10000]);
    assert.equal(cpuSharesToWeight(0), 0);
  });

  test('blkio.weight -> io.weight', () => {
    assert.deepEqual([10, 100, 500, 1000].map(blkioWeightToIoWeight), [1, 910, 4950, 10000]);
  });

  test('memory+swap -> memory.swap.max', () => {
    assert.equal(memorySwapToV2(192 * MiB, 64 * MiB, 'f'), 128 * MiB);
    assert.equal(memorySwapToV2(64 * MiB, 64 * MiB, 'f'), 0, 'swap equal to the limit disables swap');
    assert.equal(memorySwapToV2(-1, 64 * MiB, 'f'), -1);
    assert.equal(memorySwapToV2(undefined, -1, 'f'), -1, 'no memory limit lifts the swap limit');
    assert.equal(memorySwapToV2(undefined, 64 * MiB, 'f'), undefined);
    assert.equal(memorySwapToV2(128 * MiB, -1, 'f'), 128 * MiB);
    assert.throws(
      () => memorySwapToV2(128 * MiB, undefined, 'linux.resources.memory.swap'),
      /^Error: linux\.resources\.memory\.swap: cannot set a swap limit without a memory limit/,
    );
    assert.throws(() => memorySwapToV2(32 * MiB, 64 * MiB, 'f'), /is below the memory limit/);
  });

  test('quota and period -> cpu.max', () => {
    assert.equal(cpuMax(50000, 100000), '50000 100000');
    assert.equal(cpuMax(50000, undefined), '50000 100000');
    assert.equal(cpuMax(-1, 20000), 'max 20000');
    assert.equal(cpuMax(undefined, 20000), 'max 20000');
    assert.equal(cpuMax(undefined, undefined), undefined);
  });
});

describe('the v2 writer in a fake v2 directory', () => {
  test('every field lands in its controller file', () => {
    const fake = fakeV2Cgroup();
    try {
      applyV2Resources(
        fake.dir,
        res({
          memory: { limit: 64 * MiB, swap: 192 * MiB, reservation: 16 * MiB },
          cpu: { shares: 1024, quota: 50000, period: 100000, burst: 10000, idle: 0, cpus: '0-1', mems: '0' },
          pids: { limit: 64 },
          blockIO: {
            weight: 500,
            throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
            throttleWriteIOPSDevice: [
              { major: 8, minor: 0, rate: 100 },
              { major: 8, minor: 16, rate: 200 },
            ],
          },
          hugepageLimits: [
            { pageSize: '2MB', limit: 8 * MiB },
            { pageSize: '1GB', limit: 0 },
          ],
          rdma: { mlx5_0: { hcaHandles: 3, hcaObjects: 100 } },
          unified: { 'memory.high': String(48 * MiB), 'cgroup.max.descendants': '5' },
        }),
      );
      const expected: Record<string, string> = {
        'memory.max': String(64 * MiB),
        'memory.swap.max': String(128 * MiB),
        'memory.low': String(16 * MiB),
        'memory.high': String(48 * MiB),
        'cpu.weight': '100',
        'cpu.max': '50000 100000',
        'cpu.max.burst': '10000',
        'cpu.idle': '0',
        'cpuset.cpus': '0-1',
        'cpuset.mems': '0',
        'pids.max': '64',
        'io.weight': '4950',
        'io.max': '8:0 rbps=1048576\n8:0 wiops=100\n8:16 wiops=200\n',
        'hugetlb.2MB.max': String(8 * MiB),
        'hugetlb.2MB.rsvd.max': String(8 * MiB),
        'hugetlb.1GB.max': '0',
        'rdma.max': 'mlx5_0 hca_handle=3 hca_object=100\n',
        'cgroup.max.descendants': '5',
      };
      for (const [file, value] of Object.entries(expected)) assert.equal(fake.read(file), value, file);
    } finally {
      fake.cleanup();
    }
  });

  test('-1 is written as max; BFQ takes the weight unconverted', () => {
    const fake = fakeV2Cgroup(['io.weight']);
    writeFileSync(join(fake.dir, 'io.bfq.weight'), '');
    try {
      applyV2Resources(fake.dir, res({ memory: { limit: -1 }, pids: { limit: -1 }, cpu: { quota: -1 }, blockIO: { weight: 300 } }));
      assert.equal(fake.read('memory.max'), 'max');
      assert.equal(fake.read('memory.swap.max'), 'max');
      assert.equal(fake.read('pids.max'), 'max');
      assert.equal(fake.read('cpu.max'), 'max 100000');
      assert.equal(fake.read('io.bfq.weight'), '300');
    } finally {
      fake.cleanup();
    }
  });

  test('fields cgroup v2 has no equivalent for are refused, naming the field', () => {
    const fake = fakeV2Cgroup();
    try {
      const cases: Array<[object, RegExp]> = [
        [{ memory: { swappiness: 10 } }, /^linux\.resources\.memory\.swappiness: not supported on cgroup v2/],
        [{ memory: { disableOOMKiller: true } }, /^linux\.resources\.memory\.disableOOMKiller: not supported on cgroup v2/],
        [{ cpu: { realtimeRuntime: 1000 } }, /^linux\.resources\.cpu\.realtimeRuntime: not supported on cgroup v2/],
        [{ blockIO: { leafWeight: 100 } }, /^linux\.resources\.blockIO\.leafWeight: not supported on cgroup v2/],
        [{ network: { classID: 1 } }, /^linux\.resources\.network: not supported on cgroup v2/],
        [{ memory: { swap: 2 * MiB } }, /^linux\.resources\.memory\.swap: cannot set a swap limit without a memory limit/],
      ];
      for (const [raw, re] of cases)
        assert.throws(
          () => applyV2Resources(fake.dir, res(raw)),
          (err: Error) => re.test(err.message),
          JSON.stringify(raw),
        );
      assert.equal(fake.read('memory.max'), '', 'nothing was written');
    } finally {
      fake.cleanup();
    }
  });

  test('a controller the parent did not enable is named', () => {
    const fake = fakeV2Cgroup(
      ['memory.max', 'memory.swap.max', 'memory.low', 'memory.high', 'memory.current', 'memory.events'],
      'cpu pids',
    );
    try {
      assert.throws(
        () => applyV2Resources(fake.dir, res({ memory: { limit: MiB } })),
        (err: Error) =>
          err.message ===
          `linux.resources.memory.limit: the memory controller is not enabled for ${fake.dir} (cgroup.controllers: "cpu pids")`,
      );
      assert.throws(
        () => applyV2Resources(fake.dir, res({ unified: { 'memory.high': '1' } })),
        /^Error: linux\.resources\.unified\.memory\.high: the memory controller is not enabled/,
      );
    } finally {
      fake.cleanup();
    }
  });
});

describe('the cgroup version is detected from the hierarchies', () => {
  const v2only = (dir: string): CgroupDir[] => [{ hierarchy: { version: 2, mountpoint: join(dir, '..'), key: '' }, path: '/c', dir }];

  test('a pure v2 host takes every resource on v2; a device filter needs a real cgroup', () => {
    const fake = fakeV2Cgroup();
    try {
      const dirs = v2only(fake.dir);
      assert.equal(resourcesVersion(dirs), 2);
      applyResources(dirs, res({ memory: { limit: 8 * MiB }, cpu: { shares: 2048 } }), []);
      assert.equal(fake.read('memory.max'), String(8 * MiB));
      assert.equal(fake.read('cpu.weight'), '174');
      assert.throws(
        () => applyResources(dirs, res({ devices: [{ allow: false, access: 'rwm' }] }), []),
        (err: Error) => err.message.startsWith(`linux.resources.devices: query the device filters of ${fake.dir}: `),
      );
    } finally {
      fake.cleanup();
    }
  });

  test('a hybrid host (v1 controllers, a bare cgroup2) takes them on v1', () => {
    const hybrid: Hierarchy[] = [
      { version: 1, mountpoint: '/sys/fs/cgroup/memory', key: 'memory' },
      { version: 1, mountpoint: '/sys/fs/cgroup/systemd', key: 'name=systemd' },
      { version: 2, mountpoint: '/sys/fs/cgroup/unified', key: '' },
    ];
    assert.equal(resourcesVersion(hybrid.map((h) => ({ hierarchy: h, path: '/x', dir: h.mountpoint }))), 1);
    assert.equal(
      resourcesVersion(hybrid.slice(1).map((h) => ({ hierarchy: h, path: '/x', dir: h.mountpoint }))),
      2,
      'name=systemd carries no controller',
    );
  });

  test('on a pure v2 host droplet enables the controllers down the cgroup path', () => {
    const root = fakeCgroup({
      'cgroup.controllers': 'cpu memory pids\n',
      'cgroup.subtree_control': '',
      'a/cgroup.controllers': 'cpu memory pids\n',
      'a/cgroup.subtree_control': '',
    });
    try {
      const h: Hierarchy = { version: 2, mountpoint: root.dir, key: '' };
      createCgroups([{ hierarchy: h, path: '/a/c1', dir: join(root.dir, 'a', 'c1') }]);
      assert.equal(root.read('cgroup.subtree_control'), '+cpu +memory +pids');
      assert.equal(root.read('a/cgroup.subtree_control'), '+cpu +memory +pids');
      assert.ok(existsSync(join(root.dir, 'a', 'c1')));
    } finally {
      root.cleanup();
    }
  });
});

describe('the v1 writer in fake v1 directories (files this host lacks)', () => {
  test('blkio CFQ files, leaf weights, per-device weights; hugetlb; net_cls; net_prio; rdma', () => {
    const fake = fakeCgroup({
      'blkio/blkio.weight': '',
      'blkio/blkio.leaf_weight': '',
      'blkio/blkio.weight_device': '',
      'blkio/blkio.leaf_weight_device': '',
      'hugetlb/hugetlb.2MB.limit_in_bytes': '',
      'hugetlb/hugetlb.2MB.rsvd.limit_in_bytes': '',
      'net_cls/net_cls.classid': '',
      'net_prio/net_prio.ifpriomap': '',
      'rdma/rdma.max': '',
    });
    try {
      applyV1Resources(
        (c) => (['blkio', 'hugetlb', 'net_cls', 'net_prio', 'rdma'].includes(c) ? join(fake.dir, c) : undefined),
        res({
          blockIO: {
            weight: 300,
            leafWeight: 200,
            weightDevice: [
              { major: 8, minor: 0, weight: 500, leafWeight: 100 },
              { major: 8, minor: 16, weight: 50 },
            ],
          },
          hugepageLimits: [{ pageSize: '2MB', limit: 4 * MiB }],
          network: {
            classID: 0x100001,
            priorities: [
              { name: 'eth0', priority: 5 },
              { name: 'lo', priority: 1 },
            ],
          },
          rdma: { mlx5_0: { hcaHandles: 3 } },
        }),
      );
      assert.equal(fake.read('blkio/blkio.weight'), '300');
      assert.equal(fake.read('blkio/blkio.leaf_weight'), '200');
      assert.equal(fake.read('blkio/blkio.weight_device'), '8:0 500\n8:16 50\n');
      assert.equal(fake.read('blkio/blkio.leaf_weight_device'), '8:0 100\n');
      assert.equal(fake.read('hugetlb/hugetlb.2MB.limit_in_bytes'), String(4 * MiB));
      assert.equal(fake.read('hugetlb/hugetlb.2MB.rsvd.limit_in_bytes'), String(4 * MiB));
      assert.equal(fake.read('net_cls/net_cls.classid'), String(0x100001));
      assert.equal(fake.read('net_prio/net_prio.ifpriomap'), 'eth0 5\nlo 1\n');
      assert.equal(fake.read('rdma/rdma.max'), 'mlx5_0 hca_handle=3\n');
    } finally {
      fake.cleanup();
    }
  });

  test('a huge page size the host lacks, a missing leaf weight file', () => {
    const fake = fakeCgroup({ 'hugetlb/hugetlb.2MB.limit_in_bytes': '', 'blkio/blkio.bfq.weight': '' });
    try {
      const dirOf = (c: string) => join(fake.dir, c);
      assert.throws(
        () => applyV1Resources(dirOf, res({ hugepageLimits: [{ pageSize: '1GB', limit: 0 }] })),
        /^Error: linux\.resources\.hugepageLimits\[0\]\.pageSize: this host has no 1GB huge pages/,
      );
      assert.throws(
        () => applyV1Resources(dirOf, res({ blockIO: { leafWeight: 100 } })),
        /^Error: linux\.resources\.blockIO\.leafWeight: .*blkio\.leaf_weight does not exist: this host's kernel or cgroup setup lacks it$/,
      );
      applyV1Resources(dirOf, res({ blockIO: { weight: 100 } }));
      assert.equal(fake.read('blkio/blkio.bfq.weight'), '100', 'BFQ file where there is no CFQ one');
    } finally {
      fake.cleanup();
    }
  });
});

describe('stats from a v2 directory', () => {
  test('runc\'s shape, with "max" as 2^64-1', () => {
    const fake = fakeCgroup({
      'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\nthrottled_usec 30\n',
      'memory.current': '4096000\n',
      'memory.max': 'max\n',
      'memory.peak': '5000000\n',
      'memory.stat': 'anon 100\nfile 2000\n',
      'memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n',
      'memory.swap.current': '0\n',
      'memory.swap.max': 'max\n',
      'pids.current': '4\n',
      'pids.max': 'max\n',
      'io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n',
      'hugetlb.2MB.current': '0\n',
      'hugetlb.2MB.events': 'max 0\n',
    });
    try {
      const json = statsJson(statsV2(fake.dir, ['2MB']));
      assert.match(json, /"limit":18446744073709551615,/);
      const s = JSON.parse(json);
      assert.deepEqual(s.cpu.usage, { total: 1500000, kernel: 500000, user: 1000000 });
      assert.deepEqual(s.cpu.throttling, { periods: 10, throttledPeriods: 2, throttledTime: 30000 });
      assert.equal(s.memory.usage.usage, 4096000);
      assert.equal(s.memory.usage.max, 5000000);
      assert.equal(s.memory.usage.failcnt, 3);
      assert.equal(s.memory.cache, 2000);
      assert.deepEqual(s.pids, { current: 4 });
      assert.deepEqual(s.blkio.ioServiceBytesRecursive, [
        { major: 8, op: 'Read', value: 4096 },
        { major: 8, op: 'Write', value: 8192 },
      ]);
      assert.deepEqual(s.blkio.ioServicedRecursive, [
        { major: 8, op: 'Read', value: 1 },
        { major: 8, op: 'Write', value: 2 },
      ]);
      assert.deepEqual(s.hugetlb, { '2MB': { failcnt: 0 } });
    } finally {
      fake.cleanup();
    }
  });
});

/** Runs a device filter on one access, instruction by instruction: the subset of eBPF the
 * generator emits (32-bit loads, ALU and jumps, 64-bit mov, exit), decoded from the bytes
 * the kernel would get. Returns the program's verdict. */
function runFilter(program: Buffer, type: 'b' | 'c', access: string, major: number, minor: number): number {
  const acc = [...access].reduce((a, ch) => a | ACC[ch as keyof typeof ACC], 0);
  const ctx = [((acc << 16) | DEV_TYPE[type]) >>> 0, major >>> 0, minor >>> 0];
  const r = new Array<number>(11).fill(0);
  /* r0 to r10: the kernel refuses a program that names another */
  const reg = (n: number) => r[n] ?? assert.fail(`r${n} is no register`);
  for (let pc = 0, steps = 0; pc * 8 < program.length && steps < 10000; pc++, steps++) {
    const code = program.readUInt8(pc * 8);
    const dst = program.readUInt8(pc * 8 + 1) & 0xf;
    const src = program.readUInt8(pc * 8 + 1) >> 4;
    const off = program.readInt16LE(pc * 8 + 2);
    const imm = program.readInt32LE(pc * 8 + 4);
    switch (code) {
      case 0x61:
        assert.equal(src, 1);
        r[dst] = ctx[off / 4] ?? assert.fail(`load at offset ${off}, past the context, at ${pc}`);
        break;
      case 0x54:
        r[dst] = (reg(dst) & imm) >>> 0;
        break;
      case 0x74:
        r[dst] = reg(dst) >>> imm;
        break;
      case 0xbc:
        r[dst] = reg(src) >>> 0;
        break;
      case 0xb7:
        r[dst] = imm;
        break;
      case 0x56:
        if (reg(dst) >>> 0 !== imm >>> 0) pc += off;
        break;
      case 0x5e:
        if (reg(dst) >>> 0 !== reg(src) >>> 0) pc += off;
        break;
      case 0x16:
        if (reg(dst) >>> 0 === imm >>> 0) pc += off;
        break;
      case 0x95:
        return reg(0);
      default:
        assert.fail(`unexpected opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
  return assert.fail('the program ran off its end');
}

describe('the cgroup v2 device filter (BPF_PROG_TYPE_CGROUP_DEVICE)', () => {
  const verdicts = (rules: DeviceRule[], cases: Array<[string, 'b' | 'c', string, number, number]>) => {
    const program = encodeProgram(deviceFilterProgram(containerDeviceRules(rules, [])));
    return Object.fromEntries(cases.map(([name, type, access, major, minor]) => [name, runFilter(program, type, access, major, minor)]));
  };

  test("the default config: deny all, then runc's default set and the config's allows", () => {
    const got = verdicts(
      [
        { allow: false, type: 'a', access: 'rwm' },
        { allow: true, type: 'b', major: 7, minor: 0, access: 'r' },
      ],
      [
        ['null rw', 'c', 'rw', 1, 3],
        ['tun rwm', 'c', 'rwm', 10, 200],
        ['pty', 'c', 'rw', 136, 5],
        ['mknod any char', 'c', 'm', 4, 1],
        ['mem r', 'c', 'r', 1, 1],
        ['loop0 r', 'b', 'r', 7, 0],
        ['loop0 w', 'b', 'w', 7, 0],
        ['loop0 rw', 'b', 'rw', 7, 0],
        ['loop1 r', 'b', 'r', 7, 1],
        ['mknod any block', 'b', 'm', 8, 0],
      ],
    );
    assert.deepEqual(got, {
      'null rw': 1,
      'tun rwm': 1,
      pty: 1,
      'mknod any char': 1,
      'mem r': 0,
      'loop0 r': 1,
      'loop0 w': 0,
      'loop0 rw': 0,
      'loop1 r': 0,
      'mknod any block': 1,
    });
  });

  test('later rules win; a deny matches any access it touches; no match allows', () => {
    const got = verdicts(
      [
        { allow: true, type: 'a', access: 'rwm' },
        { allow: false, type: 'b', major: 8, access: 'w' },
      ],
      [
        ['sda r', 'b', 'r', 8, 0],
        ['sda w', 'b', 'w', 8, 0],
        ['sda rw', 'b', 'rw', 8, 16],
        ['vda w', 'b', 'w', 254, 0],
      ],
    );
    assert.deepEqual(got, { 'sda r': 1, 'sda w': 0, 'sda rw': 0, 'vda w': 1 });
    assert.deepEqual(
      verdicts(
        [{ allow: false, type: 'b', major: 8, minor: 0, access: 'r' }],
        [
          ['other', 'c', 'r', 99, 1],
          ['sda r', 'b', 'r', 8, 0],
        ],
      ),
      { other: 1, 'sda r': 0 },
    );
  });

  test('attached to a cgroup in the real cgroup2 mount, it decides what its processes open', async () => {
    const cg = await unifiedTestCgroup();
    try {
      attachDeviceFilter(
        cg.dir,
        [
          { allow: false, type: 'a', access: 'rwm' },
          { allow: true, type: 'b', major: 7, minor: 0, access: 'r' },
        ],
        [],
      );
      const first = deviceFilterIds(cg.dir);
      assert.equal(first.length, 1);
      /* an update replaces the filter: still one */
      attachDeviceFilter(
        cg.dir,
        [
          { allow: false, type: 'a', access: 'rwm' },
          { allow: true, type: 'b', major: 7, minor: 0, access: 'r' },
        ],
        [],
      );
      const second = deviceFilterIds(cg.dir);
      assert.equal(second.length, 1);
      assert.notEqual(second[0], first[0]);
      /* a shell that moves itself into the cgroup, then opens the device */
      const inCgroup = (open: string) =>
        spawnSync('/bin/sh', ['-c', `echo $$ > ${cg.dir}/cgroup.procs && ${open}`], { encoding: 'utf8', timeout: 5000 });
      assert.equal(inCgroup('exec head -c 0 /dev/null').status, 0, 'the default set is allowed');
      assert.equal(inCgroup('exec head -c 0 /dev/loop0').status, 0, 'loop0 opens for reading');
      const write = inCgroup('exec 3>/dev/loop0');
      assert.notEqual(write.status, 0);
      assert.match(write.stderr, /Operation not permitted/);
      assert.match(inCgroup('exec head -c 0 /dev/loop1').stderr, /Operation not permitted/);
      /* the same without the filter: only the cgroup's rules made the difference */
      assert.equal(spawnSync('/bin/sh', ['-c', 'exec head -c 0 /dev/loop1'], { encoding: 'utf8' }).status, 0);
    } finally {
      await cg.cleanup();
    }
  });

  test("on a pure v2 host the container's device rules become its filter", async () => {
    const cg = await unifiedTestCgroup();
    try {
      const dirs: CgroupDir[] = [
        { hierarchy: { version: 2, mountpoint: UNIFIED, key: '' }, path: cg.dir.slice(UNIFIED.length), dir: cg.dir },
      ];
      applyResources(dirs, res({ devices: [{ allow: false, access: 'rwm' }] }), [
        { allow: true, type: 'b', major: 7, minor: 1, access: 'rwm' },
      ]);
      assert.equal(deviceFilterIds(cg.dir).length, 1);
      const open = (dev: string) =>
        spawnSync('/bin/sh', ['-c', `echo $$ > ${cg.dir}/cgroup.procs && exec head -c 0 ${dev}`], { encoding: 'utf8' });
      assert.equal(open('/dev/loop1').status, 0, 'a configured device node is allowed');
      assert.match(open('/dev/loop2').stderr, /Operation not permitted/);
    } finally {
      await cg.cleanup();
    }
  });
});

describe('the real cgroup2 mount of this host', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test('cgroup.freeze freezes a cgroup and thaws it; SIGKILL still kills a frozen task', async () => {
    const cg = await unifiedTestCgroup();
    try {
      const f = { version: 2 as const, dir: cg.dir };
      assert.equal(freezerState(f), 'thawed');
      freeze(f);
      assert.equal(freezerState(f), 'frozen');
      assert.equal(keyValues(cg.dir, 'cgroup.events').frozen, 1);
      assert.equal(readCg(cg.dir, 'cgroup.freeze'), '1');
      const dirs: CgroupDir[] = [
        { hierarchy: { version: 2, mountpoint: UNIFIED, key: '' }, path: cg.dir.slice(UNIFIED.length), dir: cg.dir },
      ];
      assert.equal(isPaused(dirs), true, "on a pure v2 host this is the container's freezer");
      thaw(f);
      assert.equal(freezerState(f), 'thawed');
      assert.equal(keyValues(cg.dir, 'cgroup.events').frozen, 0);
      assert.equal(isPaused(dirs), false);
      freeze(f);
      const exited = new Promise((r) => cg.child.once('exit', (_code, signal) => r(signal)));
      cg.child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
    } finally {
      await cg.cleanup();
    }
    assert.equal(existsSync(cg.dir), false);
  });

  test('the container is placed in the cgroup2 mount, and its sub-cgroups go with it', async () => {
    const c = baseConfig();
    c.process.args = ['/bin/sh', '-c', 'sleep 60 & wait'];
    b.write(c);
    const id = uniqueId('v2');
    ok(b.root, ['run', '-d', '-b', b.dir, id]);
    const dir = join(UNIFIED, 'droplet', id);
    try {
      const { pid } = stateOf(b.root, id);
      assert.ok(readCg(dir, 'cgroup.procs').split('\n').includes(String(pid)));
      assert.match(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), new RegExp(`^0::/droplet/${id}$`, 'm'));
      /* a container that makes cgroups of its own: droplet still finds and removes them */
      await waitFor(() => readCg(`/proc/${pid}/task/${pid}`, 'children') !== '', 5000, 'the sleep');
      const sleeper = Number(readCg(`/proc/${pid}/task/${pid}`, 'children').split(' ')[0]);
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'sub', 'cgroup.procs'), String(sleeper));
      assert.deepEqual(
        JSON.parse(ok(b.root, ['ps', '-f', 'json', id]).stdout),
        [pid, sleeper].sort((x, y) => x - y),
      );
      assert.equal(procState(sleeper), 'S');
    } finally {
      droplet(b.root, ['delete', '-f', id]);
    }
    assert.equal(existsSync(dir), false);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });
});
