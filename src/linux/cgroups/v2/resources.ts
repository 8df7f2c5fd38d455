import { UserError } from '../../../lib/errors.js';
import { cgroupValue, THROTTLE_KEYS, type Resources } from '../../../oci/resources.js';
import { CgroupWriteError, hasCgroupFile, readCgroupFile, readCgroupNumber, writeCgroupFile } from '../cgroup-file.js';
import { rdmaLines } from '../rdma.js';
import { blkioWeightToIoWeight, cpuMax, cpuSharesToWeight, memorySwapToV2, v2Limit } from './convert.js';

/** Applies linux.resources to one cgroup v2 directory, converting the v1 values as runc
 * (libcontainer/cgroups/fs2) and crun do. Fields v2 has no equivalent for are errors, as in
 * crun. `dir` is a plain path: tests point it at a fake tree. Devices are not handled here
 * (a v2 device filter is a BPF program: device-filter.ts). */

const F = 'linux.resources.';

export function applyV2Resources(dir: string, r: Resources): void {
  refuseV1Only(r);
  applyPids(dir, r);
  applyMemory(dir, r);
  applyIo(dir, r);
  applyCpu(dir, r);
  applyCpuset(dir, r);
  applyHugetlb(dir, r);
  const rdma = rdmaLines(r);
  if (rdma.length) write(dir, 'rdma.max', rdma, `${F}rdma`);
  applyUnified(dir, r.unified);
}

/** Settings cgroup v2 does not have. */
function refuseV1Only(r: Resources): void {
  const no = (field: string, why: string) => {
    throw new UserError(`${F}${field}: not supported on cgroup v2 (${why})`);
  };
  const m = r.memory;
  if (m?.kernelTCP !== undefined && m.kernelTCP !== 0 && m.kernelTCP !== -1) no('memory.kernelTCP', 'kernel memory is part of memory.max');
  if (m?.swappiness !== undefined) no('memory.swappiness', 'there is no per-cgroup swappiness');
  if (m?.disableOOMKiller) no('memory.disableOOMKiller', 'the OOM killer cannot be disabled per cgroup');
  if (m?.useHierarchy === false) no('memory.useHierarchy', 'cgroup v2 is always hierarchical');
  if (r.cpu?.realtimeRuntime) no('cpu.realtimeRuntime', 'there is no realtime group scheduling');
  if (r.cpu?.realtimePeriod) no('cpu.realtimePeriod', 'there is no realtime group scheduling');
  if (r.blockIO?.leafWeight) no('blockIO.leafWeight', 'there are no leaf weights');
  r.blockIO?.weightDevice.forEach((d, i) => {
    if (d.leafWeight) no(`blockIO.weightDevice[${i}].leafWeight`, 'there are no leaf weights');
  });
  if (r.network && (r.network.classID !== undefined || r.network.priorities.length))
    no('network', 'net_cls and net_prio are v1 controllers');
}

/** A write whose failure, when the file is missing, says which controller is not enabled. */
function write(dir: string, file: string, value: string | string[], field: string): void {
  try {
    writeCgroupFile(dir, file, value, field);
  } catch (err) {
    if (!(err instanceof CgroupWriteError) || (err.code !== 'ENOENT' && err.code !== 'EACCES')) throw err;
    const controller = file.split('.')[0]!; /* split always yields one part */
    const enabled = (readCgroupFile(dir, 'cgroup.controllers') ?? '').split(/\s+/).filter(Boolean);
    if (controller !== 'cgroup' && !enabled.includes(controller))
      throw new UserError(`${field}: the ${controller} controller is not enabled for ${dir} (cgroup.controllers: "${enabled.join(' ')}")`);
    throw err;
  }
}

function applyPids(dir: string, r: Resources): void {
  if (r.pids && r.pids.limit !== 0) write(dir, 'pids.max', v2Limit(r.pids.limit), `${F}pids.limit`);
}

function applyMemory(dir: string, r: Resources): void {
  const m = r.memory;
  if (!m) return;
  if (m.checkBeforeUpdate) {
    const usage = readCgroupNumber(dir, 'memory.current');
    if (usage !== undefined) {
      const total = BigInt(m.limit && m.limit > 0 ? m.limit : 0) + BigInt(m.swap && m.swap > 0 ? m.swap : 0);
      if (total && total <= usage) throw new UserError(`${F}memory.limit: ${total} is not above the current usage ${usage}`);
    }
  }
  /* swap first, then the limit, as runc: the swap value does not depend on the old limit */
  const swap = memorySwapToV2(m.swap, m.limit, `${F}memory.swap`);
  if (swap !== undefined) {
    if (hasCgroupFile(dir, 'memory.swap.max') || !hasCgroupFile(dir, 'memory.max'))
      write(dir, 'memory.swap.max', v2Limit(swap), `${F}memory.swap`);
    else if (swap !== -1 && swap !== 0) throw new UserError(`${F}memory.swap: this kernel does not account swap (no memory.swap.max)`);
  }
  if (m.limit) write(dir, 'memory.max', v2Limit(m.limit), `${F}memory.limit`);
  if (m.reservation) write(dir, 'memory.low', v2Limit(m.reservation), `${F}memory.reservation`);
}

function applyIo(dir: string, r: Resources): void {
  const b = r.blockIO;
  if (!b) return;
  if (b.weight) {
    /* BFQ takes the v1 range as is; otherwise io.weight, converted */
    if (hasCgroupFile(dir, 'io.bfq.weight')) write(dir, 'io.bfq.weight', String(b.weight), `${F}blockIO.weight`);
    else write(dir, 'io.weight', String(blkioWeightToIoWeight(b.weight)), `${F}blockIO.weight`);
  }
  /* per-device weights exist only with BFQ (io.bfq.weight takes "MAJ:MIN WEIGHT" lines) */
  const weights = b.weightDevice.filter((d) => d.weight).map((d) => `${d.major}:${d.minor} ${d.weight}`);
  if (weights.length) write(dir, 'io.bfq.weight', weights, `${F}blockIO.weightDevice`);
  const keys = {
    throttleReadBpsDevice: 'rbps',
    throttleWriteBpsDevice: 'wbps',
    throttleReadIOPSDevice: 'riops',
    throttleWriteIOPSDevice: 'wiops',
  };
  const limits = THROTTLE_KEYS.flatMap((key) => b[key].map((d) => `${d.major}:${d.minor} ${keys[key]}=${cgroupValue(d.rate)}`));
  if (limits.length) write(dir, 'io.max', limits, `${F}blockIO.${THROTTLE_KEYS.find((k) => b[k].length)}`);
}

function applyCpu(dir: string, r: Resources): void {
  const c = r.cpu;
  if (!c) return;
  if (c.idle !== undefined) write(dir, 'cpu.idle', String(c.idle), `${F}cpu.idle`);
  if (c.shares) write(dir, 'cpu.weight', String(cpuSharesToWeight(c.shares)), `${F}cpu.shares`);
  const max = cpuMax(c.quota, c.period);
  if (max) write(dir, 'cpu.max', max, `${F}cpu.${c.quota ? 'quota' : 'period'}`);
  if (c.burst !== undefined) write(dir, 'cpu.max.burst', String(c.burst), `${F}cpu.burst`);
}

function applyCpuset(dir: string, r: Resources): void {
  if (r.cpu?.cpus !== undefined) write(dir, 'cpuset.cpus', r.cpu.cpus, `${F}cpu.cpus`);
  if (r.cpu?.mems !== undefined) write(dir, 'cpuset.mems', r.cpu.mems, `${F}cpu.mems`);
}

function applyHugetlb(dir: string, r: Resources): void {
  r.hugepageLimits.forEach((h, i) => {
    const field = `${F}hugepageLimits[${i}].limit`;
    write(dir, `hugetlb.${h.pageSize}.max`, cgroupValue(h.limit), field);
    if (hasCgroupFile(dir, `hugetlb.${h.pageSize}.rsvd.max`)) write(dir, `hugetlb.${h.pageSize}.rsvd.max`, cgroupValue(h.limit), field);
  });
}

/** linux.resources.unified: each file written as given, one write per line (runc's
 * WriteFileByLine); it comes last, so it overrides a converted value. */
export function applyUnified(dir: string, unified: Record<string, string>): void {
  for (const [file, value] of Object.entries(unified)) {
    const lines = value.split('\n').filter((l) => l !== '');
    if (lines.length) write(dir, file, lines.length === 1 ? lines[0]! : lines, `${F}unified.${file}`);
  }
}
