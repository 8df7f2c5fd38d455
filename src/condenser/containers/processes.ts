import { spawnSync } from 'node:child_process';
import { UserError } from '../../lib/errors.js';

/** What docker top answers (the API's shape): ps' column titles and one row per process. */
export interface ProcessList {
  Titles: string[];
  Processes: string[][];
}

/** The host's ps for the container's pids: `ps -f -p PIDS` (docker's default columns: UID
 * PID PPID C STIME TTY TIME CMD), or with the caller's ps options, every process listed and
 * then only the container's rows kept, as docker does: options such as `aux` select for
 * themselves. */
const DEFAULT_TITLES = ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'];

export function listProcesses(pids: number[], psOptions: string[]): ProcessList {
  if (pids.length === 0 && psOptions.length === 0) return { Titles: DEFAULT_TITLES, Processes: [] };
  const args = psOptions.length === 0 ? ['-f', '-p', pids.join(',')] : psOptions;
  const r = spawnSync('ps', args, { encoding: 'utf8' });
  if (r.error) throw new UserError(`top: ps: ${r.error.message}`);
  const lines = (r.stdout ?? '').split('\n').filter((l) => l.trim() !== '');
  /* ps -p exits 1 when none of the pids is left: an empty list then */
  if (r.status !== 0 && !(r.status === 1 && lines.length <= 1 && psOptions.length === 0))
    throw new UserError(`top: ps ${args.join(' ')}: ${(r.stderr ?? '').trim().split('\n').pop() ?? `exited ${r.status}`}`, {
      kind: 'invalid',
    });
  const titles = (lines[0] ?? '').trim().split(/\s+/);
  const pidColumn = titles.indexOf('PID');
  if (pidColumn < 0) throw new UserError(`top: ps ${args.join(' ')} printed no PID column`, { kind: 'invalid' });
  const wanted = new Set(pids);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const row = splitColumns(line, titles.length);
    if (wanted.has(Number(row[pidColumn]))) processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}

/** The first n-1 fields split at blanks; the last one, the command, keeps its own. */
function splitColumns(line: string, n: number): string[] {
  const out: string[] = [];
  let rest = line.trim();
  while (out.length < n - 1 && rest !== '') {
    const m = /^(\S+)\s*/.exec(rest);
    if (!m) break;
    out.push(m[1] ?? '');
    rest = rest.slice(m[0].length);
  }
  out.push(rest);
  return out;
}
