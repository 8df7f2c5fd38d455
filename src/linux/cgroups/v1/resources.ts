import { UserError } from '../../../lib/errors.js';
import type { Int64 } from '../../../lib/json-reader.js';
import { cgroupValue, THROTTLE_KEYS, type Resources } from '../../../oci/resources.js';
import { CgroupWriteError, hasCgroupFile, readCgroupFile, readCgroupNumber, writeCgroupFile } from '../cgroup-file.js';
import { rdmaLines } from '../rdma.js';

/** Applies linux.resources to cgroup v1 directories, with runc's file names and order
 * (libcontainer/cgroups/fs). `dirOf` gives the container's directory in the hierarchy of a
 * controller, or undefined if the host has no such hierarchy; it takes plain paths, so a
 * fake tree in a temporary directory stands in for /sys/fs/cgroup in tests. Devices are
 * handled by devices.ts. */

export type DirOf = (controller: string) => string | undefined;

const F = 'linux.resources.';

/** The directory of a controller the resources need: a missing controller is an error,
 * never a silent skip. */
function need(dirOf: DirOf, controller: string, field: string): string {
  const dir = dirOf(controller);
  if (!dir) throw new UserError(`${field}: this host has no cgroup v1 ${controller} controller`);
  return dir;
}

export function applyV1Resources(dirOf: DirOf, r: Resources): void {
  applyCpuset(dirOf, r);
  applyMemory(dirOf, r);
  applyCpu(dirOf, r);
  applyPids(dirOf, r);
  applyBlkio(dirOf, r);
  applyHugetlb(dirOf, r);
  applyNetwork(dirOf, r);
  applyRdma(dirOf, r);
}

function applyCpuset(dirOf: DirOf, r: Resources): void {
  const c = r.cpu;
  if (!c || (c.cpus === undefined && c.mems === undefined)) return;
  const dir = need(dirOf, 'cpuset', `${F}cpu.${c.cpus !== undefined ? 'cpus' : 'mems'}`);
  if (c.cpus !== undefined) writeCgroupFile(dir, 'cpuset.cpus', c.cpus, `${F}cpu.cpus`);
  if (c.mems !== undefined) writeCgroupFile(dir, 'cpuset.mems', c.mems, `${F}cpu.mems`);
}

function applyMemory(dirOf: DirOf, r: Resources): void {
  const m = r.memory;
  if (!m) return;
  const set = Object.entries(m).filter(([, v]) => v !== undefined && v !== 0);
  if (set.length === 0) return;
  const dir = need(dirOf, 'memory', `${F}memory.${set[0]![0]}`); /* set is not empty */
  if (m.checkBeforeUpdate) checkUsage(dir, m.limit, m.swap);
  setLimitAndSwap(dir, m.limit, m.swap);
  if (m.kernelTCP) writeCgroupFile(dir, 'memory.kmem.tcp.limit_in_bytes', cgroupValue(m.kernelTCP), `${F}memory.kernelTCP`);
  if (m.reservation) writeCgroupFile(dir, 'memory.soft_limit_in_bytes', cgroupValue(m.reservation), `${F}memory.reservation`);
  if (m.disableOOMKiller !== undefined)
    writeCgroupFile(dir, 'memory.oom_control', m.disableOOMKiller ? '1' : '0', `${F}memory.disableOOMKiller`);
  if (m.swappiness !== undefined) writeCgroupFile(dir, 'memory.swappiness', String(m.swappiness), `${F}memory.swappiness`);
  if (m.useHierarchy !== undefined) writeCgroupFile(dir, 'memory.use_hierarchy', m.useHierarchy ? '1' : '0', `${F}memory.useHierarchy`);
}

/** memory.memsw.limit_in_bytes may never be below memory.limit_in_bytes, so which of the two
 * goes first depends on the old values (runc's setMemoryAndSwap). */
function setLimitAndSwap(dir: string, limit: Int64 | undefined, swap: Int64 | undefined): void {
  const memsw = 'memory.memsw.limit_in_bytes';
  /* "no memory limit" lifts the swap limit too, where the kernel accounts swap */
  if (limit === -1 && !swap && hasCgroupFile(dir, memsw)) swap = -1;
  const writeLimit = () => {
    try {
      writeCgroupFile(dir, 'memory.limit_in_bytes', cgroupValue(limit!), `${F}memory.limit`);
    } catch (err) {
      if (!(err instanceof CgroupWriteError) || err.code !== 'EBUSY') throw err;
      const usage = readCgroupNumber(dir, 'memory.usage_in_bytes');
      throw new UserError(`${F}memory.limit: cannot set the memory limit to ${limit}: the cgroup already uses ${usage} bytes`);
    }
  };
  const writeSwap = () => {
    if (!hasCgroupFile(dir, memsw))
      throw new UserError(`${F}memory.swap: this kernel does not account swap (no ${memsw}; boot with swapaccount=1)`);
    writeCgroupFile(dir, memsw, cgroupValue(swap!), `${F}memory.swap`);
  };
  if (limit && swap) {
    const current = readCgroupNumber(dir, 'memory.limit_in_bytes') ?? 0;
    if (swap === -1 || current < swap) {
      writeSwap();
      writeLimit();
      return;
    }
  }
  if (limit) writeLimit();
  if (swap) writeSwap();
}

/** memory.checkBeforeUpdate: refuse a limit at or below what the cgroup already uses. */
function checkUsage(dir: string, limit: Int64 | undefined, swap: Int64 | undefined): void {
  const usage = readCgroupNumber(dir, 'memory.usage_in_bytes');
  if (usage === undefined) return;
  if (swap !== undefined && swap > 0 && swap <= usage)
    throw new UserError(`${F}memory.swap: ${swap} is not above the current usage ${usage}`);
  if (limit !== undefined && limit > 0 && limit <= usage)
    throw new UserError(`${F}memory.limit: ${limit} is not above the current usage ${usage}`);
}

function applyCpu(dirOf: DirOf, r: Resources): void {
  const c = r.cpu;
  if (!c) return;
  /* 0 leaves shares, quota, periods and runtime unset (runc); burst and idle take 0 */
  const fields = [
    ...(['shares', 'quota', 'period', 'realtimeRuntime', 'realtimePeriod'] as const).filter((k) => c[k]),
    ...(['burst', 'idle'] as const).filter((k) => c[k] !== undefined),
  ];
  if (fields.length === 0) return;
  const dir = need(dirOf, 'cpu', `${F}cpu.${fields[0]}`);
  if (c.shares) {
    writeCgroupFile(dir, 'cpu.shares', String(c.shares), `${F}cpu.shares`);
    const kept = readCgroupNumber(dir, 'cpu.shares');
    if (kept !== c.shares) throw new UserError(`${F}cpu.shares: the kernel keeps ${kept} instead of ${c.shares}`);
  }
  /* A period shorter than the current one can fail (EINVAL) while the old quota would exceed
   * the parent's bandwidth; runc retries it after the quota. */
  let retryPeriod = false;
  if (c.period) {
    try {
      writeCgroupFile(dir, 'cpu.cfs_period_us', String(c.period), `${F}cpu.period`);
    } catch (err) {
      if (!(err instanceof CgroupWriteError) || err.code !== 'EINVAL' || !c.quota) throw err;
      retryPeriod = true;
    }
  }
  if (c.quota) {
    writeCgroupFile(dir, 'cpu.cfs_quota_us', cgroupValue(c.quota), `${F}cpu.quota`);
    if (retryPeriod) writeCgroupFile(dir, 'cpu.cfs_period_us', String(c.period), `${F}cpu.period`);
  }
  if (c.burst !== undefined) writeCgroupFile(dir, 'cpu.cfs_burst_us', String(c.burst), `${F}cpu.burst`);
  if (c.realtimePeriod) writeCgroupFile(dir, 'cpu.rt_period_us', String(c.realtimePeriod), `${F}cpu.realtimePeriod`);
  if (c.realtimeRuntime) {
    try {
      writeCgroupFile(dir, 'cpu.rt_runtime_us', cgroupValue(c.realtimeRuntime), `${F}cpu.realtimeRuntime`);
    } catch (err) {
      /* the usual cause: the parent cgroup has less realtime runtime to hand out (often 0) */
      const parent = readCgroupFile(dir.replace(/\/[^/]+\/?$/, ''), 'cpu.rt_runtime_us');
      if (err instanceof CgroupWriteError && err.code === 'EINVAL' && parent !== undefined)
        throw new UserError(`${err.message} (the parent cgroup's cpu.rt_runtime_us is ${parent})`);
      throw err;
    }
  }
  if (c.idle !== undefined) writeCgroupFile(dir, 'cpu.idle', String(c.idle), `${F}cpu.idle`);
}

function applyPids(dirOf: DirOf, r: Resources): void {
  if (!r.pids || r.pids.limit === 0) return;
  const dir = need(dirOf, 'pids', `${F}pids.limit`);
  writeCgroupFile(dir, 'pids.max', r.pids.limit === -1 ? 'max' : cgroupValue(r.pids.limit), `${F}pids.limit`);
}

/** blkio files exist under the CFQ names (blkio.weight) or, with the BFQ scheduler, the
 * blkio.bfq.* names; runc and crun take whichever exists. */
function pickFile(dir: string, names: string[]): string {
  return names.find((n) => hasCgroupFile(dir, n)) ?? names[0]!; /* callers pass at least one */
}

function applyBlkio(dirOf: DirOf, r: Resources): void {
  const b = r.blockIO;
  if (!b) return;
  const used = [
    b.weight ? 'weight' : '',
    b.leafWeight ? 'leafWeight' : '',
    b.weightDevice.length ? 'weightDevice' : '',
    ...THROTTLE_KEYS.filter((k) => b[k].length),
  ].filter(Boolean);
  if (used.length === 0) return;
  const dir = need(dirOf, 'blkio', `${F}blockIO.${used[0]}`);
  if (b.weight) writeCgroupFile(dir, pickFile(dir, ['blkio.weight', 'blkio.bfq.weight']), String(b.weight), `${F}blockIO.weight`);
  if (b.leafWeight) writeCgroupFile(dir, 'blkio.leaf_weight', String(b.leafWeight), `${F}blockIO.leafWeight`);
  /* one write(2) per entry, all through one open file */
  const weights = b.weightDevice.filter((d) => d.weight).map((d) => `${d.major}:${d.minor} ${d.weight}`);
  const leafWeights = b.weightDevice.filter((d) => d.leafWeight).map((d) => `${d.major}:${d.minor} ${d.leafWeight}`);
  if (weights.length)
    writeCgroupFile(dir, pickFile(dir, ['blkio.weight_device', 'blkio.bfq.weight_device']), weights, `${F}blockIO.weightDevice`);
  if (leafWeights.length) writeCgroupFile(dir, 'blkio.leaf_weight_device', leafWeights, `${F}blockIO.weightDevice`);
  const files = {
    throttleReadBpsDevice: 'blkio.throttle.read_bps_device',
    throttleWriteBpsDevice: 'blkio.throttle.write_bps_device',
    throttleReadIOPSDevice: 'blkio.throttle.read_iops_device',
    throttleWriteIOPSDevice: 'blkio.throttle.write_iops_device',
  };
  for (const key of THROTTLE_KEYS)
    if (b[key].length)
      writeCgroupFile(
        dir,
        files[key],
        b[key].map((d) => `${d.major}:${d.minor} ${cgroupValue(d.rate)}`),
        `${F}blockIO.${key}`,
      );
}

function applyHugetlb(dirOf: DirOf, r: Resources): void {
  if (r.hugepageLimits.length === 0) return;
  const dir = need(dirOf, 'hugetlb', `${F}hugepageLimits`);
  r.hugepageLimits.forEach((h, i) => {
    const field = `${F}hugepageLimits[${i}]`;
    const file = `hugetlb.${h.pageSize}.limit_in_bytes`;
    if (!hasCgroupFile(dir, file)) throw new UserError(`${field}.pageSize: this host has no ${h.pageSize} huge pages (no ${file})`);
    writeCgroupFile(dir, file, cgroupValue(h.limit), `${field}.limit`);
    /* reservations are limited alike where the kernel has them (Linux 5.7+), as runc does */
    const rsvd = `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`;
    if (hasCgroupFile(dir, rsvd)) writeCgroupFile(dir, rsvd, cgroupValue(h.limit), `${field}.limit`);
  });
}

function applyNetwork(dirOf: DirOf, r: Resources): void {
  const n = r.network;
  if (!n) return;
  if (n.classID !== undefined)
    writeCgroupFile(need(dirOf, 'net_cls', `${F}network.classID`), 'net_cls.classid', String(n.classID), `${F}network.classID`);
  if (n.priorities.length)
    writeCgroupFile(
      need(dirOf, 'net_prio', `${F}network.priorities`),
      'net_prio.ifpriomap',
      n.priorities.map((p) => `${p.name} ${p.priority}`),
      `${F}network.priorities`,
    );
}

function applyRdma(dirOf: DirOf, r: Resources): void {
  const lines = rdmaLines(r);
  if (lines.length === 0) return;
  writeCgroupFile(need(dirOf, 'rdma', `${F}rdma`), 'rdma.max', lines, `${F}rdma`);
}
