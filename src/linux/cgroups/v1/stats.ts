import { hasCgroupFile, readCgroupFile } from '../cgroup-file.js';
import { big, compact, expandList, hugePageSizes, keyValues, pidsLimit, type BlkioEntry } from '../stats.js';
import type { DirOf } from './resources.js';

/** The container's resource usage read from the v1 hierarchies (runc fs's stat functions). */

function text(dir: string | undefined, file: string): string {
  return (dir && readCgroupFile(dir, file)) || '';
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
  /* "cpu user system" per line: only lines of three fields are kept */
  const all = text(acct, 'cpuacct.usage_all')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f): f is [string, string, string] => f.length === 3);
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
      /* the four groups always match */
      if (m) out.push({ major: BigInt(m[1]!), minor: BigInt(m[2]!), op: m[3]!, value: BigInt(m[4]!) });
    }
    return out;
  };

  const huge: Record<string, object> = {};
  if (hugetlb)
    for (const size of pageSizes)
      huge[size] = {
        ...compact({ usage: big(hugetlb, `hugetlb.${size}.usage_in_bytes`), max: big(hugetlb, `hugetlb.${size}.max_usage_in_bytes`) }),
        failcnt: big(hugetlb, `hugetlb.${size}.failcnt`),
      };

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
      throttling: compact({
        periods: throttle.nr_periods ?? 0n,
        throttledPeriods: throttle.nr_throttled ?? 0n,
        throttledTime: throttle.throttled_time ?? 0n,
      }),
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
      ioServiceBytesRecursive: blkioEntries([
        'blkio.io_service_bytes_recursive',
        'blkio.bfq.io_service_bytes_recursive',
        'blkio.throttle.io_service_bytes_recursive',
      ]).map(compact),
      ioServicedRecursive: blkioEntries([
        'blkio.io_serviced_recursive',
        'blkio.bfq.io_serviced_recursive',
        'blkio.throttle.io_serviced_recursive',
      ]).map(compact),
    }),
    hugetlb: huge,
    intel_rdt: {},
    network_interfaces: null,
  };
}

function cpusetStats(dir: string | undefined) {
  if (!dir)
    return {
      cpu_exclusive: 0n,
      mem_hardwall: 0n,
      mem_exclusive: 0n,
      memory_migrate: 0n,
      memory_spread_page: 0n,
      memory_spread_slab: 0n,
      memory_pressure: 0n,
      sched_load_balance: 0n,
      sched_relax_domain_level: 0n,
    };
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
