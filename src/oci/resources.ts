import {
  asInt64,
  asObject,
  asString,
  INT64_MAX,
  INT64_MIN,
  invalid,
  optArray,
  optBool,
  optInt64,
  optInteger,
  optObject,
  optString,
  UINT32_MAX,
  UINT64_MAX,
  type Int64,
  type Obj,
} from '../lib/json-reader.js';

/** One linux.resources.devices rule (config-linux.md "Allowed device list"). */
export interface DeviceRule {
  allow: boolean;
  type: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access: string;
}

/** linux.resources (config-linux.md "Control groups"), validated. A field that is absent
 * stays undefined: droplet writes only what the config asks for. Byte counts and other int64
 * values are JS numbers: exact up to 2^53, and the int64 maximum (used for "no limit") reads
 * as 2^63, which cgroupValue() writes back as 9223372036854775807. */
export interface Resources {
  devices: DeviceRule[];
  memory?: MemoryResources;
  cpu?: CpuResources;
  pids?: { limit: Int64 };
  blockIO?: BlockIOResources;
  hugepageLimits: HugepageLimit[];
  network?: NetworkResources;
  rdma: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  /** cgroup v2 file name -> value, written as given */
  unified: Record<string, string>;
}

export interface MemoryResources {
  /** bytes; -1 is no limit */
  limit?: Int64;
  reservation?: Int64;
  /** memory + swap, bytes (the v1 meaning); -1 is no limit */
  swap?: Int64;
  kernel?: Int64;
  kernelTCP?: Int64;
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

export interface CpuResources {
  shares?: number;
  /** microseconds per period; -1 is no limit */
  quota?: Int64;
  burst?: Int64;
  period?: number;
  realtimeRuntime?: Int64;
  realtimePeriod?: Int64;
  cpus?: string;
  mems?: string;
  idle?: number;
}

export interface WeightDevice {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}

export interface ThrottleDevice {
  major: number;
  minor: number;
  rate: Int64;
}

export interface BlockIOResources {
  weight?: number;
  leafWeight?: number;
  weightDevice: WeightDevice[];
  throttleReadBpsDevice: ThrottleDevice[];
  throttleWriteBpsDevice: ThrottleDevice[];
  throttleReadIOPSDevice: ThrottleDevice[];
  throttleWriteIOPSDevice: ThrottleDevice[];
}

export interface HugepageLimit {
  /** "2MB", "1GB": the cgroup file names' spelling */
  pageSize: string;
  limit: Int64;
}

export interface NetworkResources {
  classID?: number;
  priorities: Array<{ name: string; priority: number }>;
}

export const THROTTLE_KEYS = [
  'throttleReadBpsDevice',
  'throttleWriteBpsDevice',
  'throttleReadIOPSDevice',
  'throttleWriteIOPSDevice',
] as const;

const KNOWN_KEYS = ['devices', 'memory', 'cpu', 'pids', 'blockIO', 'hugepageLimits', 'network', 'rdma', 'unified'];

/** Reads a linux.resources object; `at` is its JSON path with a trailing dot
 * ("linux.resources.", or "" for an `update --resources` file). */
export function readResources(v: unknown, at: string): Resources {
  const r = v === undefined || v === null ? {} : asObject(v, at.replace(/\.$/, '') || '(top level)');
  for (const key of Object.keys(r)) if (!KNOWN_KEYS.includes(key)) throw invalid(`${at}${key}`, 'unknown resource');
  return {
    devices: (optArray(r, 'devices', at) ?? []).map((d, i) => readDeviceRule(d, `${at}devices[${i}]`)),
    memory: readMemory(optObject(r, 'memory', at), `${at}memory.`),
    cpu: readCpu(optObject(r, 'cpu', at), `${at}cpu.`),
    pids: readPids(optObject(r, 'pids', at), `${at}pids.`),
    blockIO: readBlockIO(optObject(r, 'blockIO', at), `${at}blockIO.`),
    hugepageLimits: (optArray(r, 'hugepageLimits', at) ?? []).map((h, i) => readHugepageLimit(h, `${at}hugepageLimits[${i}]`)),
    network: readNetwork(optObject(r, 'network', at), `${at}network.`),
    rdma: readRdma(optObject(r, 'rdma', at), `${at}rdma.`),
    unified: readUnified(optObject(r, 'unified', at), `${at}unified.`),
  };
}

/** An int64 that is either -1 ("no limit") or at least `min`; 0 reads as "not set", as runc
 * reads it. */
function limitValue(o: Obj, key: string, path: string, min = 0): Int64 | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  const n = asInt64(v, `${path}${key}`, INT64_MIN, INT64_MAX);
  if (n === -1 || n === 0 || n >= min) return n;
  throw invalid(`${path}${key}`, n < 0 ? `${n} is negative (use -1 for no limit)` : `${n} is below the minimum ${min}`);
}

/** An integer in [min, max], or 0 for "not set". */
function rangeOrUnset(o: Obj, key: string, path: string, min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  const n = asInt64(v, `${path}${key}`, INT64_MIN, INT64_MAX);
  if (n === 0 || (n >= min && n <= max)) return Number(n);
  throw invalid(`${path}${key}`, `${n} is out of range [${min}, ${max}] (0 leaves it unset)`);
}

function readMemory(m: Obj | undefined, path: string): MemoryResources | undefined {
  if (!m) return undefined;
  const out: MemoryResources = {
    limit: limitValue(m, 'limit', path),
    reservation: limitValue(m, 'reservation', path),
    swap: limitValue(m, 'swap', path),
    kernel: limitValue(m, 'kernel', path),
    kernelTCP: limitValue(m, 'kernelTCP', path),
    swappiness: optInteger(m, 'swappiness', path, 0, 100),
    disableOOMKiller: optBool(m, 'disableOOMKiller', path),
    useHierarchy: optBool(m, 'useHierarchy', path),
    checkBeforeUpdate: optBool(m, 'checkBeforeUpdate', path),
  };
  /* swap is memory+swap: below the memory limit it means nothing the kernel accepts */
  if (out.limit !== undefined && out.limit > 0 && out.swap !== undefined && out.swap > 0 && out.swap < out.limit)
    throw invalid(`${path}swap`, `${out.swap} is below memory.limit ${out.limit} (swap counts memory+swap)`);
  return out;
}

/** "0-3,5,7-8": the kernel's cpu and node list format. */
const LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

export function checkCpuList(text: string, path: string): string {
  const t = text.trim();
  if (!LIST.test(t)) throw invalid(path, `"${text}" is not a list such as "0-3,5"`);
  for (const part of t.split(',')) {
    // LIST: a number, or two around a dash
    const [a, b] = part.split('-').map(Number) as [number, number?];
    if (b !== undefined && b < a) throw invalid(path, `"${part}" is a range that ends before it starts`);
  }
  return t;
}

function readCpu(c: Obj | undefined, path: string): CpuResources | undefined {
  if (!c) return undefined;
  const list = (key: string) => {
    const s = optString(c, key, path);
    return s === undefined || s === '' ? undefined : checkCpuList(s, `${path}${key}`);
  };
  return {
    /* the kernel's MIN_SHARES and MAX_SHARES */
    shares: rangeOrUnset(c, 'shares', path, 2, 262144),
    /* CFS bandwidth: the kernel refuses a quota under 1 ms and a period outside 1 ms .. 1 s */
    quota: limitValue(c, 'quota', path, 1000),
    period: rangeOrUnset(c, 'period', path, 1000, 1_000_000),
    burst: optInt64(c, 'burst', path, 0n, UINT64_MAX),
    realtimeRuntime: limitValue(c, 'realtimeRuntime', path),
    realtimePeriod: optInt64(c, 'realtimePeriod', path, 0n, UINT64_MAX),
    cpus: list('cpus'),
    mems: list('mems'),
    idle: optInteger(c, 'idle', path, 0, 1),
  };
}

function readPids(p: Obj | undefined, path: string): Resources['pids'] {
  if (!p) return undefined;
  const limit = limitValue(p, 'limit', path);
  if (limit === undefined) throw invalid(`${path}limit`, 'is required');
  return { limit };
}

/** blkio weights: the kernel's CFQ range (BFQ takes 1-1000, a superset). */
const weight = (o: Obj, key: string, path: string) => rangeOrUnset(o, key, path, 10, 1000);

function deviceNumbers(d: Obj, path: string): { major: number; minor: number } {
  const major = optInteger(d, 'major', path, 0, UINT32_MAX);
  const minor = optInteger(d, 'minor', path, 0, UINT32_MAX);
  if (major === undefined) throw invalid(`${path}major`, 'is required');
  if (minor === undefined) throw invalid(`${path}minor`, 'is required');
  return { major, minor };
}

function readBlockIO(b: Obj | undefined, path: string): BlockIOResources | undefined {
  if (!b) return undefined;
  const out: BlockIOResources = {
    weight: weight(b, 'weight', path),
    leafWeight: weight(b, 'leafWeight', path),
    weightDevice: (optArray(b, 'weightDevice', path) ?? []).map((v, i) => {
      const at = `${path}weightDevice[${i}].`;
      const d = asObject(v, at.slice(0, -1));
      const w: WeightDevice = { ...deviceNumbers(d, at), weight: weight(d, 'weight', at), leafWeight: weight(d, 'leafWeight', at) };
      if (!w.weight && !w.leafWeight) throw invalid(at.slice(0, -1), 'needs weight or leafWeight');
      return w;
    }),
    throttleReadBpsDevice: [],
    throttleWriteBpsDevice: [],
    throttleReadIOPSDevice: [],
    throttleWriteIOPSDevice: [],
  };
  for (const key of THROTTLE_KEYS)
    out[key] = (optArray(b, key, path) ?? []).map((v, i) => {
      const at = `${path}${key}[${i}].`;
      const d = asObject(v, at.slice(0, -1));
      const rate = optInt64(d, 'rate', at, 0n, UINT64_MAX);
      if (rate === undefined) throw invalid(`${at}rate`, 'is required');
      return { ...deviceNumbers(d, at), rate };
    });
  return out;
}

function readHugepageLimit(v: unknown, path: string): HugepageLimit {
  const h = asObject(v, path);
  const pageSize = asString(h.pageSize, `${path}.pageSize`);
  if (!/^[1-9]\d*(KB|MB|GB|TB|PB)$/.test(pageSize))
    throw invalid(`${path}.pageSize`, `"${pageSize}" is not a page size such as "2MB" or "1GB"`);
  const limit = optInt64(h, 'limit', `${path}.`, 0n, UINT64_MAX);
  if (limit === undefined) throw invalid(`${path}.limit`, 'is required');
  return { pageSize, limit };
}

function readNetwork(n: Obj | undefined, path: string): NetworkResources | undefined {
  if (!n) return undefined;
  return {
    classID: optInteger(n, 'classID', path, 0, UINT32_MAX),
    priorities: (optArray(n, 'priorities', path) ?? []).map((v, i) => {
      const at = `${path}priorities[${i}]`;
      const p = asObject(v, at);
      const name = asString(p.name, `${at}.name`);
      if (!/^[^\s/]{1,15}$/.test(name)) throw invalid(`${at}.name`, `"${name}" is not an interface name`);
      const priority = optInteger(p, 'priority', `${at}.`, 0, UINT32_MAX);
      if (priority === undefined) throw invalid(`${at}.priority`, 'is required');
      return { name, priority };
    }),
  };
}

function readRdma(r: Obj | undefined, path: string): Resources['rdma'] {
  const out: Resources['rdma'] = {};
  for (const [device, v] of Object.entries(r ?? {})) {
    const at = `${path}${device}`;
    if (!/^[^\s/=]+$/.test(device)) throw invalid(at, 'is not an RDMA device name');
    const o = asObject(v, at);
    const limits = {
      hcaHandles: optInteger(o, 'hcaHandles', `${at}.`, 0, UINT32_MAX),
      hcaObjects: optInteger(o, 'hcaObjects', `${at}.`, 0, UINT32_MAX),
    };
    if (limits.hcaHandles === undefined && limits.hcaObjects === undefined) throw invalid(at, 'needs hcaHandles or hcaObjects');
    out[device] = limits;
  }
  return out;
}

function readUnified(u: Obj | undefined, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(u ?? {})) {
    const at = `${path}${key}`;
    /* one file of the container's own cgroup directory, named CONTROLLER.PARAMETER */
    if (!/^[a-z0-9_]+\.[A-Za-z0-9_.]+$/.test(key)) throw invalid(at, 'is not a cgroup file name such as "memory.high"');
    out[key] = asString(v, at);
  }
  return out;
}

export function readDeviceRule(v: unknown, path: string): DeviceRule {
  const d = asObject(v, path);
  const allow = optBool(d, 'allow', `${path}.`);
  if (allow === undefined) throw invalid(`${path}.allow`, 'is required');
  const type = optString(d, 'type', `${path}.`) ?? 'a';
  if (!['a', 'c', 'b'].includes(type)) throw invalid(`${path}.type`, `unknown device type "${type}"`);
  const access = optString(d, 'access', `${path}.`) ?? 'rwm';
  if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length)
    throw invalid(`${path}.access`, `"${access}" is not a combination of r, w and m`);
  return {
    allow,
    type: type as DeviceRule['type'],
    major: optInteger(d, 'major', `${path}.`, -1, UINT32_MAX),
    minor: optInteger(d, 'minor', `${path}.`, -1, UINT32_MAX),
    access,
  };
}

/** Fields the runtime-spec deprecated, which droplet ignores as runc does: one warning line
 * each, naming the field (`at` as for readResources). */
export function ignoredResources(r: Resources, at: string): string[] {
  const out: string[] = [];
  if (r.memory?.kernel !== undefined && r.memory.kernel !== 0)
    out.push(`${at}memory.kernel: ignored: kernel memory limits are deprecated (the kernel counts kernel memory in the memory limit)`);
  return out;
}

/** A value as the cgroup files spell it: integers without exponent, int64-clamped. */
export function cgroupValue(n: Int64): string {
  const b = BigInt(n);
  const max = (1n << 63n) - 1n;
  return (b > max ? max : b).toString();
}
