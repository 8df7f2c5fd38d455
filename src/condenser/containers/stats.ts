import { readFileSync } from 'node:fs';

/** One reading of a container's counters, from the runtime's `events --stats` (runc's
 * shape, which droplet, runc and crun print) and the host's CPU time at that moment. */
export interface StatsSample {
  id: string;
  name: string;
  running: boolean;
  /** the container's CPU time, ns */
  cpuNs: number;
  /** the host's CPU time of all CPUs, ns (/proc/stat) */
  systemNs: number;
  onlineCpus: number;
  memoryUsage: number;
  memoryLimit: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
  /** the parts of cpuNs: kernel, user, and per CPU (what docker's API shows) */
  cpuKernelNs?: number;
  cpuUserNs?: number;
  perCpuNs?: number[];
  /** the cgroup's memory counters by name, as the runtime reads them */
  memoryStats?: Record<string, number>;
  /** the cgroup's usage, the page cache included (memoryUsage leaves out what it can drop) */
  memoryRawUsage?: number;
  pidsLimit?: number;
  /** the counters of the container's network interfaces, by name */
  networks?: Record<string, NetworkCounters>;
}

/** One interface's counters, /proc/net/dev's. */
export interface NetworkCounters {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/** What `stats` shows of a container: docker's columns, as numbers. */
export interface ContainerStats {
  ID: string;
  Name: string;
  CPUPerc: number;
  MemUsage: number;
  MemLimit: number;
  MemPerc: number;
  BlockRead: number;
  BlockWrite: number;
  PIDs: number;
}

/** The part of runc's stats event read here. */
export interface RuntimeStats {
  cpu?: { usage?: { total?: number; percpu?: number[]; kernel?: number; user?: number } };
  memory?: { usage?: { usage?: number; limit?: number }; stats?: Record<string, number>; raw?: Record<string, number> };
  pids?: { current?: number; limit?: number };
  blkio?: { io_service_bytes_recursive?: { op: string; value: number }[] };
}

/** A sample of the runtime's stats; a container that is not running reads as zeros. */
export function sampleOf(id: string, name: string, stats: RuntimeStats | undefined, pid = 0): StatsSample {
  const host = hostCpu();
  if (!stats)
    return {
      id,
      name,
      running: false,
      cpuNs: 0,
      systemNs: host.ns,
      onlineCpus: host.cpus,
      memoryUsage: 0,
      memoryLimit: 0,
      blockRead: 0,
      blockWrite: 0,
      pids: 0,
      cpuKernelNs: 0,
      cpuUserNs: 0,
      perCpuNs: [],
      memoryStats: {},
      pidsLimit: 0,
      networks: {},
    };
  const mem = stats.memory;
  const raw = mem?.raw ?? mem?.stats ?? {};
  const usage = mem?.usage?.usage ?? 0;
  /* docker's usage: the page cache the kernel can drop at once does not count */
  const inactiveFile = raw.total_inactive_file ?? raw.inactive_file ?? 0;
  const hostMemory = hostMemoryBytes();
  const limit = mem?.usage?.limit ?? 0;
  let blockRead = 0;
  let blockWrite = 0;
  for (const e of stats.blkio?.io_service_bytes_recursive ?? []) {
    if (/^read$/i.test(e.op)) blockRead += e.value;
    else if (/^write$/i.test(e.op)) blockWrite += e.value;
  }
  return {
    id,
    name,
    running: true,
    cpuNs: stats.cpu?.usage?.total ?? 0,
    systemNs: host.ns,
    onlineCpus: host.cpus,
    memoryUsage: inactiveFile < usage ? usage - inactiveFile : usage,
    /* no limit reads as the largest value a cgroup holds: the host's memory is the limit then */
    memoryLimit: limit > 0 && limit < hostMemory ? limit : hostMemory,
    blockRead,
    blockWrite,
    pids: stats.pids?.current ?? 0,
    cpuKernelNs: stats.cpu?.usage?.kernel ?? 0,
    cpuUserNs: stats.cpu?.usage?.user ?? 0,
    perCpuNs: stats.cpu?.usage?.percpu ?? [],
    memoryStats: raw,
    memoryRawUsage: usage,
    pidsLimit: stats.pids?.limit ?? 0,
    networks: pid > 0 ? networkCounters(pid) : {},
  };
}

/** The counters of the interfaces of the process's network namespace, but lo. */
function networkCounters(pid: number): Record<string, NetworkCounters> {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/net/dev`, 'utf8');
  } catch {
    return {};
  }
  const out: Record<string, NetworkCounters> = {};
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = (m[2] ?? '').trim().split(/\s+/).map(Number);
    out[m[1] ?? ''] = {
      rx_bytes: f[0] ?? 0,
      rx_packets: f[1] ?? 0,
      rx_errors: f[2] ?? 0,
      rx_dropped: f[3] ?? 0,
      tx_bytes: f[8] ?? 0,
      tx_packets: f[9] ?? 0,
      tx_errors: f[10] ?? 0,
      tx_dropped: f[11] ?? 0,
    };
  }
  return out;
}

/** docker's figures from two samples: CPU % is the container's share of the host's CPU time
 * between them, times the number of CPUs (100% is one CPU busy). */
export function statsBetween(previous: StatsSample | undefined, current: StatsSample): ContainerStats {
  let cpu = 0;
  if (previous && current.running && previous.running) {
    const cpuDelta = current.cpuNs - previous.cpuNs;
    const systemDelta = current.systemNs - previous.systemNs;
    if (cpuDelta > 0 && systemDelta > 0) cpu = (cpuDelta / systemDelta) * current.onlineCpus * 100;
  }
  return {
    ID: current.id,
    Name: current.name,
    CPUPerc: cpu,
    MemUsage: current.memoryUsage,
    MemLimit: current.running ? current.memoryLimit : 0,
    MemPerc: current.running && current.memoryLimit > 0 ? (current.memoryUsage / current.memoryLimit) * 100 : 0,
    BlockRead: current.blockRead,
    BlockWrite: current.blockWrite,
    PIDs: current.pids,
  };
}

/** The host's CPU time (the first line of /proc/stat, in USER_HZ ticks: 100 a second) and
 * its number of CPUs. */
function hostCpu(): { ns: number; cpus: number } {
  const text = readFileSync('/proc/stat', 'utf8');
  const first = text.split('\n', 1)[0] ?? '';
  const ticks = first
    .trim()
    .split(/\s+/)
    .slice(1, 8)
    .reduce((sum, f) => sum + Number(f), 0);
  const cpus = (text.match(/^cpu\d+ /gm) ?? []).length;
  return { ns: ticks * 1e7, cpus: Math.max(cpus, 1) };
}

function hostMemoryBytes(): number {
  const m = /^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.MAX_SAFE_INTEGER;
}
