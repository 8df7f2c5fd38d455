import type { StatsSample } from '../../containers/stats.js';
import { type ApiRequest, queryBool } from '../request.js';
import type { Router } from '../router.js';

/** The pause between two samples, as docker's: CPU % is measured over it. */
const INTERVAL_MS = 1000;

/** GET /containers/{id}/stats: docker's stats JSON, one a second while the client stays
 * (stream, the default), or one reading whose precpu_stats is a second older (stream=false;
 * one-shot=true: at once, without precpu_stats). */
export function statsRoutes(router: Router): void {
  router.get('/containers/{id}/stats', containerStats);
}

async function containerStats(r: ApiRequest): Promise<void> {
  const id = r.engine.containers.resolve(r.params.id ?? '');
  const stream = queryBool(r, 'stream', true);
  const oneShot = !stream && queryBool(r, 'one-shot');
  const sample = () => r.engine.containers.statsSample(id);
  let gone = false;
  r.res.on('close', () => {
    gone = true;
  });
  let previous = sample();
  r.res.writeHead(200, { 'Content-Type': 'application/json' });
  if (oneShot) return void r.res.end(`${JSON.stringify(statsJson(previous, undefined))}\n`);
  if (stream) {
    r.res.write(`${JSON.stringify(statsJson(previous, undefined))}\n`);
  }
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
    if (gone) return;
    let current: StatsSample;
    try {
      current = sample();
    } catch {
      /* the container was removed: the stream ends, as docker's */
      return void r.res.end();
    }
    const text = `${JSON.stringify(statsJson(current, previous))}\n`;
    if (!stream) return void r.res.end(text);
    r.res.write(text);
    previous = current;
  }
}

/** docker's stats shape (cgroup v2 fields where v1 and v2 differ in name). */
function statsJson(s: StatsSample, pre: StatsSample | undefined): object {
  const now = new Date();
  const memoryStats = s.memoryStats ?? {};
  return {
    read: now.toISOString(),
    preread: pre ? new Date(now.getTime() - INTERVAL_MS).toISOString() : '0001-01-01T00:00:00Z',
    pids_stats: s.running ? { current: s.pids, ...(s.pidsLimit ? { limit: s.pidsLimit } : {}) } : {},
    blkio_stats: {
      io_service_bytes_recursive: s.running
        ? [
            { major: 0, minor: 0, op: 'read', value: s.blockRead },
            { major: 0, minor: 0, op: 'write', value: s.blockWrite },
          ]
        : null,
      io_serviced_recursive: null,
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuJson(s),
    precpu_stats: pre ? cpuJson(pre) : { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: {} },
    /* docker's clients subtract inactive_file from usage: usage is the cgroup's own */
    memory_stats: s.running ? { usage: s.memoryRawUsage ?? s.memoryUsage, stats: memoryStats, limit: s.memoryLimit } : {},
    name: `/${s.name}`,
    id: s.id,
    ...(s.networks && Object.keys(s.networks).length ? { networks: s.networks } : {}),
  };
}

function cpuJson(s: StatsSample): object {
  return {
    cpu_usage: {
      total_usage: s.cpuNs,
      ...(s.perCpuNs?.length ? { percpu_usage: s.perCpuNs } : {}),
      usage_in_kernelmode: s.cpuKernelNs ?? 0,
      usage_in_usermode: s.cpuUserNs ?? 0,
    },
    system_cpu_usage: s.systemNs,
    online_cpus: s.onlineCpus,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}
