import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { type StatsSample, sampleOf, statsBetween } from '../../src/condenser/containers/stats.js';

const hostMemory = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]) * 1024;

const sample = (over: Partial<StatsSample>): StatsSample => ({
  id: 'abc',
  name: 'n',
  running: true,
  cpuNs: 0,
  systemNs: 0,
  onlineCpus: 4,
  memoryUsage: 0,
  memoryLimit: 100,
  blockRead: 0,
  blockWrite: 0,
  pids: 1,
  ...over,
});

describe('container stats', () => {
  test("CPU % is the container's share of the host's CPU time between two samples, times the CPUs", () => {
    const s = statsBetween(sample({ cpuNs: 1e9, systemNs: 10e9 }), sample({ cpuNs: 2e9, systemNs: 14e9, memoryUsage: 25 }));
    assert.equal(s.CPUPerc, 100);
    assert.equal(s.MemPerc, 25);
  });

  test('a first sample, or a container that is not running, reads 0%', () => {
    assert.equal(statsBetween(undefined, sample({ cpuNs: 5e9, systemNs: 9e9 })).CPUPerc, 0);
    const stopped = statsBetween(sample({}), sample({ running: false, memoryLimit: 0 }));
    assert.deepEqual([stopped.CPUPerc, stopped.MemPerc, stopped.MemLimit], [0, 0, 0]);
  });

  test("runc's stats event: page cache left out of the usage, no limit is the host's memory, block I/O by op", () => {
    const s = sampleOf('abc', 'n', {
      cpu: { usage: { total: 42 } },
      memory: { usage: { usage: 10_000, limit: 2 ** 63 }, raw: { total_inactive_file: 4_000 } },
      pids: { current: 3 },
      blkio: {
        io_service_bytes_recursive: [
          { op: 'Read', value: 5 },
          { op: 'write', value: 7 },
          { op: 'Total', value: 12 },
        ],
      },
    });
    assert.deepEqual([s.cpuNs, s.memoryUsage, s.memoryLimit, s.blockRead, s.blockWrite, s.pids], [42, 6_000, hostMemory, 5, 7, 3]);
    assert.equal(sampleOf('abc', 'n', { memory: { usage: { usage: 1, limit: 64 << 20 } } }).memoryLimit, 64 << 20);
    assert.equal(sampleOf('abc', 'n', undefined).running, false);
  });
});
