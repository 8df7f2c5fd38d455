import { UsageError, UserError } from '../lib/errors.js';
import type { ContainerStats, StatsSample } from '../condenser/containers/containers.js';
import { statsBetween } from '../condenser/containers/stats.js';
import type { Engine } from '../condenser/engine.js';
import { parseOptions, splitAtPositional } from './container-flags.js';
import { BINARY_UNITS, SI_UNITS, out, scaledSize, table } from './output.js';

/** top CONTAINER [ps options]: the container's processes, as docker top. */
export function containerTop(engine: Engine, argv: string[]): number {
  const [container, ...psOptions] = argv;
  if (container === undefined || container.startsWith('-')) throw new UsageError('top: expected a container (then ps options)');
  const list = engine.containers.top(container, psOptions);
  out(table(list.Titles, list.Processes));
  return 0;
}

const STATS_OPTIONS = {
  all: { type: 'boolean', short: 'a' },
  'no-stream': { type: 'boolean' },
  'no-trunc': { type: 'boolean' },
  format: { type: 'string' },
} as const;

/** The pause between two samples: CPU % is measured over it. */
const INTERVAL_MS = 1000;

/** stats [-a] [--no-stream] [--format table|json] [CONTAINER...]: CPU %, memory, block I/O
 * and pids of the running containers (or those named). --no-stream prints one reading,
 * its CPU % measured over a second; otherwise the table is redrawn every second until
 * interrupted. */
export async function containerStats(engine: Engine, argv: string[]): Promise<number> {
  const split = splitAtPositional(argv, STATS_OPTIONS);
  const values = parseOptions('stats', split.options, STATS_OPTIONS);
  const format = (values.format as string | undefined) ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError(`stats: --format must be table or json, not "${format}"`);
  const named = split.rest;
  const pick = (): string[] =>
    named.length > 0
      ? named
      : engine.containers
          .list()
          .filter((c) => values.all === true || c.State.Running)
          .map((c) => c.Id);
  const sample = (ids: string[]): Map<string, StatsSample> => {
    const samples = new Map<string, StatsSample>();
    for (const id of ids) {
      try {
        samples.set(id, engine.containers.statsSample(id));
      } catch (err) {
        /* a container removed meanwhile leaves the table; one named that never was is an error */
        if (named.length > 0 || !(err instanceof UserError)) throw err;
      }
    }
    return samples;
  };
  let previous = sample(pick());
  const stream = values['no-stream'] !== true;
  for (;;) {
    await new Promise((r) => setTimeout(r, INTERVAL_MS));
    const current = sample(pick());
    const rows = [...current.values()].map((s) => statsBetween(previous.get(s.id), s));
    if (format === 'json') out(`${rows.map((r) => JSON.stringify(jsonRow(r))).join('\n')}${rows.length ? '\n' : ''}`);
    else out(`${stream ? '\x1b[2J\x1b[H' : ''}${statsTable(rows, values['no-trunc'] === true)}`);
    if (!stream) return 0;
    previous = current;
  }
}

function statsTable(rows: ContainerStats[], noTrunc: boolean): string {
  return table(
    ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'BLOCK I/O', 'PIDS'],
    rows.map((r) => [
      noTrunc ? r.ID : r.ID.slice(0, 12),
      r.Name,
      `${r.CPUPerc.toFixed(2)}%`,
      `${binarySize(r.MemUsage)} / ${binarySize(r.MemLimit)}`,
      `${r.MemPerc.toFixed(2)}%`,
      `${decimalSize(r.BlockRead)} / ${decimalSize(r.BlockWrite)}`,
      String(r.PIDs),
    ]),
  );
}

/** docker stats --format json's fields, strings as docker prints them, with the numbers too. */
function jsonRow(r: ContainerStats) {
  return {
    ID: r.ID,
    Name: r.Name,
    CPUPerc: `${r.CPUPerc.toFixed(2)}%`,
    MemUsage: `${binarySize(r.MemUsage)} / ${binarySize(r.MemLimit)}`,
    MemPerc: `${r.MemPerc.toFixed(2)}%`,
    BlockIO: `${decimalSize(r.BlockRead)} / ${decimalSize(r.BlockWrite)}`,
    PIDs: String(r.PIDs),
    MemUsageBytes: r.MemUsage,
    MemLimitBytes: r.MemLimit,
    BlockReadBytes: r.BlockRead,
    BlockWriteBytes: r.BlockWrite,
  };
}

/** Memory in docker's binary units: 1.5MiB. */
function binarySize(bytes: number): string {
  return scaledSize(bytes, 1024, BINARY_UNITS, (n) => n.toFixed(2).replace(/\.?0+$/, ''));
}

/** Block I/O in docker's decimal units: 4.1MB. */
function decimalSize(bytes: number): string {
  return scaledSize(bytes, 1000, SI_UNITS, (n) => n.toFixed(3).replace(/\.?0+$/, ''));
}
