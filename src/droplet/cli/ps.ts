import { writeSync } from 'node:fs';
import { UsageError } from '../../lib/errors.js';
import { cgroupManager } from '../../linux/cgroups/manager.js';
import type { Context } from '../container/lifecycle.js';
import { validateId } from '../container/store.js';
import { parseCommand } from './args.js';

/** ps [-f table|json] ID [ps options]: the processes in the container's cgroup. With json, a
 * list of PIDs (containerd reads it); with table, the host's `ps` (default `ps -ef`) filtered
 * to those PIDs, as runc does. Everything after the id goes to ps. */
export function ps(ctx: Context, argv: string[]): number {
  const idAt = psIdIndex(argv);
  if (idAt < 0) throw new UsageError('ps: expects a container id');
  const { values } = parseCommand('ps', argv.slice(0, idAt), { format: { type: 'string', short: 'f' } });
  const format = values.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError(`ps: --format must be table or json, not "${format}"`);
  const id = validateId(argv[idAt]);
  const psArgs = argv.slice(idAt + 1);
  if (format === 'json' && psArgs.length) throw new UsageError('ps: ps options cannot be combined with --format json');
  const pids = cgroupManager(ctx.store.read(id).cgroups)
    .pids()
    .sort((a, b) => a - b);
  if (format === 'json') {
    writeSync(1, `${JSON.stringify(pids)}\n`);
    return 0;
  }
  writeSync(1, filterPsOutput(runPs(psArgs.length ? psArgs : ['-ef']), new Set(pids)));
  return 0;
}

/** The position of the container id: the first argument that is neither an option nor the
 * value of -f/--format. */
export function psIdIndex(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!; /* i < argv.length */
    if (a === '-f' || a === '--format') i++;
    else if (!a.startsWith('-')) return i;
  }
  return -1;
}

function runPs(args: string[]): string {
  /* loaded here: child_process costs every other command milliseconds at start-up */
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync('ps', args, { encoding: 'utf8' });
  if (r.error) throw new UsageError(`ps: run ps: ${r.error.message}`);
  if (r.status !== 0) throw new UsageError(`ps: ps ${args.join(' ')} failed: ${r.stderr.trim().split('\n')[0] ?? `exit ${r.status}`}`);
  return r.stdout;
}

/** The header, and the lines whose PID column is one of pids. */
export function filterPsOutput(output: string, pids: Set<number>): string {
  const [header = '', ...lines] = output.split('\n');
  const col = header.trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw new UsageError('ps: the ps output has no PID column (add "-o pid,...")');
  const kept = lines.filter((l) => pids.has(Number(l.trim().split(/\s+/)[col])));
  return `${[header, ...kept].join('\n')}\n`;
}
