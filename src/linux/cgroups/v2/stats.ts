import { hasCgroupFile, readCgroupFile } from '../cgroup-file.js';
import { big, compact, expandList, hugePageSizes, keyValues, pidsLimit, U64_MAX, type BlkioEntry } from '../stats.js';

/** The container's resource usage read from its cgroup v2 directory, in the shape v1 gives
 * (runc fs2's stat functions). */
export function statsV2(dir: string, pageSizes = hugePageSizes()) {
  const cpu = keyValues(dir, 'cpu.stat');
  const raw = keyValues(dir, 'memory.stat');
  const usage = {
    limit: big(dir, 'memory.max'),
    ...compact({ usage: big(dir, 'memory.current'), max: big(dir, 'memory.peak') }),
    failcnt: keyValues(dir, 'memory.events').max ?? 0n,
  };
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
      const [k, v = '0'] = pair.split('=');
      const entry = (op: string) => ({ major: BigInt(m[1]!), minor: BigInt(m[2]!), op, value: BigInt(v) });
      if (k === 'rbytes') io.bytes.push(entry('Read'));
      else if (k === 'wbytes') io.bytes.push(entry('Write'));
      else if (k === 'rios') io.ios.push(entry('Read'));
      else if (k === 'wios') io.ios.push(entry('Write'));
    }
  }
  const huge: Record<string, object> = {};
  for (const size of pageSizes)
    if (hasCgroupFile(dir, `hugetlb.${size}.current`))
      huge[size] = {
        ...compact({ usage: big(dir, `hugetlb.${size}.current`) }),
        failcnt: keyValues(dir, `hugetlb.${size}.events`).max ?? 0n,
      };
  return {
    cpu: {
      usage: {
        ...compact({ total: (cpu.usage_usec ?? 0n) * 1000n }),
        kernel: (cpu.system_usec ?? 0n) * 1000n,
        user: (cpu.user_usec ?? 0n) * 1000n,
      },
      throttling: compact({
        periods: cpu.nr_periods ?? 0n,
        throttledPeriods: cpu.nr_throttled ?? 0n,
        throttledTime: (cpu.throttled_usec ?? 0n) * 1000n,
      }),
    },
    cpuset: {
      ...compact({ cpus: expandList(readCgroupFile(dir, 'cpuset.cpus.effective')) }),
      ...compact({ mems: expandList(readCgroupFile(dir, 'cpuset.mems.effective')) }),
    },
    memory: {
      ...compact({ cache: raw.file ?? 0n }),
      usage,
      swap,
      kernel: { limit: 0n, failcnt: 0n },
      kernelTCP: { limit: 0n, failcnt: 0n },
      raw,
    },
    pids: compact({ current: big(dir, 'pids.current'), limit: pidsLimit(dir, 'pids.max') }),
    blkio: compact({ ioServiceBytesRecursive: io.bytes.map(compact), ioServicedRecursive: io.ios.map(compact) }),
    hugetlb: huge,
    intel_rdt: {},
    network_interfaces: null,
  };
}
