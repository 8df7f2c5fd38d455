import { readdirSync } from 'node:fs';
import { hasCgroupFile, readCgroupFile } from './cgroup-file.js';
import type { DirOf } from './v1/resources.js';

/** The container's resource usage in runc's `events --stats` shape (runc types/events.go),
 * read from the v1 hierarchies or from one v2 directory. Counters are bigint: cgroup files
 * hold uint64 values ("max" is 2^64-1, as runc reports it) that a JS number cannot carry. */

const U64_MAX = (1n << 64n) - 1n;

function big(dir: string | undefined, file: string): bigint {
  if (!dir) return 0n;
  const t = readCgroupFile(dir, file)?.trim();
  if (t === undefined || t === '') return 0n;
  if (t === 'max') return U64_MAX;
  return /^-?\d+$/.test(t) ? BigInt(t) : 0n;
}

function text(dir: string | undefined, file: string): string {
  return (dir && readCgroupFile(dir, file)) || '';
}

function keyValues(dir: string | undefined, file: string): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  if (!dir) return out;
  for (const line of (readCgroupFile(dir, file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = BigInt(v);
  }
  return out;
}

/** Go's omitempty: zero values and empty lists are left out. */
function compact<T extends object>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o))
    if (!(v === 0n || v === 0 || v === '' || v === undefined || (Array.isArray(v) && v.length === 0))) out[k] = v;
  return out as Partial<T>;
}

interface BlkioEntry {
  major: bigint;
  minor: bigint;
  op: string;
  value: bigint;
}

/** The list format of "0-3,5". */
function expandList(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? '').trim().split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

/** Huge page sizes as the cgroup files spell them ("2MB", "1GB"), from /sys/kernel/mm/hugepages. */
export function hugePageSizes(): string[] {
  try {
    return readdirSync('/sys/kernel/mm/hugepages')
      .map((n) => /^hugepages-(\d+)kB$/.exec(n))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => {
        const kb = Number(m[1]);
        return kb >= 1 << 20 ? `${kb >> 20}GB` : kb >= 1 << 10 ? `${kb >> 10}MB` : `${kb}KB`;
      });
  } catch {
    return [];
  }
}

const CLOCK_TICKS = 100n;

export function statsV1(dirOf: DirOf, pageSizes = hugePageSizes()) {
  const cpu = dirOf('cpu');
  const acct = dirOf('cpuacct');
  const mem = dirOf('memory');
  const pids = dirOf('pids');
  const blkio = dirOf('blkio');
  const hugetlb = dirOf('hugetlb');
  const cpuset = dirOf('cpuset');

  const ticks = keyValues(acct, 'cpuacct.stat');
  const perCpu = text(acct, 'cpuacct.usage_percpu').trim().split(/\s+/).filter(Boolean).map(BigInt);
  /* cpuacct.usage_all: "cpu user system" per line, after a header */
  const all = text(acct, 'cpuacct.usage_all').split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 3);
  const throttle = keyValues(cpu, 'cpu.stat');

  const memoryEntry = (prefix: string) => {
    if (!mem || !hasCgroupFile(mem, `${prefix}.usage_in_bytes`)) return { limit: 0n, failcnt: 0n };
    return {
      limit: big(mem, `${prefix}.limit_in_bytes`),
      ...compact({ usage: big(mem, `${prefix}.usage_in_bytes`), max: big(mem, `${prefix}.max_usage_in_bytes`) }),
      failcnt: big(mem, `${prefix}.failcnt`),
    };
  };
  const raw = keyValues(mem, 'memory.stat');

  const blkioEntries = (names: string[]): BlkioEntry[] => {
    const file = names.find((n) => blkio && hasCgroupFile(blkio, n));
    if (!blkio || !file) return [];
    const out: BlkioEntry[] = [];
    for (const line of (readCgroupFile(blkio, file) ?? '').split('\n')) {
      const m = /^(\d+):(\d+) (\S+) (\d+)$/.exec(line.trim());
      if (m) out.push({ major: BigInt(m[1]), minor: BigInt(m[2]), op: m[3], value: BigInt(m[4]) });
    }
    return out;
  };

  const huge: Record<string, object> = {};
  if (hugetlb)
    for (const size of pageSizes)
      huge[size] = { ...compact({ usage: big(hugetlb, `hugetlb.${size}.usage_in_bytes`), max: big(hugetlb, `hugetlb.${size}.max_usage_in_bytes`) }), failcnt: big(hugetlb, `hugetlb.${size}.failcnt`) };

  return {
    cpu: {
      usage: {
        ...compact({
          total: big(acct, 'cpuacct.usage'),
          percpu: perCpu,
          percpu_kernel: all.map((f) => BigInt(f[2])),
          percpu_user: all.map((f) => BigInt(f[1])),
        }),
        kernel: ((ticks.system ?? 0n) * 1_000_000_000n) / CLOCK_TICKS,
        user: ((ticks.user ?? 0n) * 1_000_000_000n) / CLOCK_TICKS,
      },
      throttling: compact({ periods: throttle.nr_periods ?? 0n, throttledPeriods: throttle.nr_throttled ?? 0n, throttledTime: throttle.throttled_time ?? 0n }),
    },
    cpuset: cpusetStats(cpuset),
    memory: {
      ...compact({ cache: raw.cache ?? 0n }),
      usage: memoryEntry('memory'),
      swap: memoryEntry('memory.memsw'),
      kernel: memoryEntry('memory.kmem'),
      kernelTCP: memoryEntry('memory.kmem.tcp'),
      raw,
    },
    pids: compact({ current: big(pids, 'pids.current'), limit: pidsLimit(pids, 'pids.max') }),
    blkio: compact({
      ioServiceBytesRecursive: blkioEntries(['blkio.io_service_bytes_recursive', 'blkio.bfq.io_service_bytes_recursive', 'blkio.throttle.io_service_bytes_recursive']).map(compact),
      ioServicedRecursive: blkioEntries(['blkio.io_serviced_recursive', 'blkio.bfq.io_serviced_recursive', 'blkio.throttle.io_serviced_recursive']).map(compact),
    }),
    hugetlb: huge,
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** pids.max: "max" is reported as 0, no limit (runc). */
function pidsLimit(dir: string | undefined, file: string): bigint {
  const v = big(dir, file);
  return v === U64_MAX ? 0n : v;
}

function cpusetStats(dir: string | undefined) {
  if (!dir) return { cpu_exclusive: 0n, mem_hardwall: 0n, mem_exclusive: 0n, memory_migrate: 0n, memory_spread_page: 0n, memory_spread_slab: 0n, memory_pressure: 0n, sched_load_balance: 0n, sched_relax_domain_level: 0n };
  return {
    ...compact({ cpus: expandList(readCgroupFile(dir, 'cpuset.cpus')) }),
    cpu_exclusive: big(dir, 'cpuset.cpu_exclusive'),
    ...compact({ mems: expandList(readCgroupFile(dir, 'cpuset.mems')) }),
    mem_hardwall: big(dir, 'cpuset.mem_hardwall'),
    mem_exclusive: big(dir, 'cpuset.mem_exclusive'),
    memory_migrate: big(dir, 'cpuset.memory_migrate'),
    memory_spread_page: big(dir, 'cpuset.memory_spread_page'),
    memory_spread_slab: big(dir, 'cpuset.memory_spread_slab'),
    memory_pressure: big(dir, 'cpuset.memory_pressure'),
    sched_load_balance: big(dir, 'cpuset.sched_load_balance'),
    sched_relax_domain_level: big(dir, 'cpuset.sched_relax_domain_level'),
  };
}

/** The same document from a cgroup v2 directory (runc fs2's stat functions). */
export function statsV2(dir: string, pageSizes = hugePageSizes()) {
  const cpu = keyValues(dir, 'cpu.stat');
  const raw = keyValues(dir, 'memory.stat');
  const usage = { limit: big(dir, 'memory.max'), ...compact({ usage: big(dir, 'memory.current'), max: big(dir, 'memory.peak') }), failcnt: keyValues(dir, 'memory.events').max ?? 0n };
  /* v1 reports swap as memory+swap: so does runc for v2 */
  const swapLimit = big(dir, 'memory.swap.max');
  const swap = {
    limit: swapLimit === U64_MAX || usage.limit === U64_MAX ? U64_MAX : swapLimit + usage.limit,
    ...compact({ usage: big(dir, 'memory.swap.current') + (usage.usage ?? 0n) }),
    failcnt: keyValues(dir, 'memory.swap.events').max ?? 0n,
  };
  const io: { bytes: BlkioEntry[]; ios: BlkioEntry[] } = { bytes: [], ios: [] };
  for (const line of (readCgroupFile(dir, 'io.stat') ?? '').split('\n')) {
    const [dev, ...pairs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    for (const pair of pairs) {
      const [k, v] = pair.split('=');
      const entry = (op: string) => ({ major: BigInt(m[1]), minor: BigInt(m[2]), op, value: BigInt(v) });
      if (k === 'rbytes') io.bytes.push(entry('Read'));
      else if (k === 'wbytes') io.bytes.push(entry('Write'));
      else if (k === 'rios') io.ios.push(entry('Read'));
      else if (k === 'wios') io.ios.push(entry('Write'));
    }
  }
  const huge: Record<string, object> = {};
  for (const size of pageSizes)
    if (hasCgroupFile(dir, `hugetlb.${size}.current`))
      huge[size] = { ...compact({ usage: big(dir, `hugetlb.${size}.current`) }), failcnt: keyValues(dir, `hugetlb.${size}.events`).max ?? 0n };
  return {
    cpu: {
      usage: {
        ...compact({ total: (cpu.usage_usec ?? 0n) * 1000n }),
        kernel: (cpu.system_usec ?? 0n) * 1000n,
        user: (cpu.user_usec ?? 0n) * 1000n,
      },
      throttling: compact({ periods: cpu.nr_periods ?? 0n, throttledPeriods: cpu.nr_throttled ?? 0n, throttledTime: (cpu.throttled_usec ?? 0n) * 1000n }),
    },
    cpuset: {
      ...compact({ cpus: expandList(readCgroupFile(dir, 'cpuset.cpus.effective')) }),
      ...compact({ mems: expandList(readCgroupFile(dir, 'cpuset.mems.effective')) }),
    },
    memory: { ...compact({ cache: raw.file ?? 0n }), usage, swap, kernel: { limit: 0n, failcnt: 0n }, kernelTCP: { limit: 0n, failcnt: 0n }, raw },
    pids: compact({ current: big(dir, 'pids.current'), limit: pidsLimit(dir, 'pids.max') }),
    blkio: compact({ ioServiceBytesRecursive: io.bytes.map(compact), ioServicedRecursive: io.ios.map(compact) }),
    hugetlb: huge,
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** JSON with bigint counters written as plain numbers, as Go's encoder writes uint64. */
export function statsJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `\u0000${v}\u0000` : v)).replace(/"\\u0000(-?\d+)\\u0000"/g, '$1');
}
