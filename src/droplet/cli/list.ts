import { writeSync } from 'node:fs';
import { UsageError } from '../../lib/errors.js';
import type { Context } from '../container/lifecycle.js';
import { recoveredStatus, recoverState } from '../container/recovery.js';
import { deriveStatus, publicState } from '../container/status.js';
import { BrokenState, NoSuchContainer } from '../container/store.js';
import { parseCommand } from './args.js';

export function list(ctx: Context, argv: string[]): number {
  const { values, positionals } = parseCommand('list', argv, {
    format: { type: 'string', short: 'f' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (positionals.length) throw new UsageError(`list: unexpected argument "${positionals[0]}"`);
  const format = values.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError(`list: --format must be table or json, not "${format}"`);
  const { store } = ctx;
  const states = [];
  for (const id of store.ids()) {
    try {
      const s = store.read(id);
      states.push(publicState(s, deriveStatus(s, store.dir(id))));
    } catch (err) {
      if (err instanceof NoSuchContainer) continue; /* deleted while we looked */
      if (!(err instanceof BrokenState)) throw err;
      /* shown, never hidden: delete --force removes it */
      const s = recoverState(store, id);
      const status = recoveredStatus(store, s, err);
      if (status !== 'creating') ctx.log.warn(`list: ${err.message}`);
      states.push(publicState(s, status));
    }
  }
  let out: string;
  if (values.quiet) out = states.map((s) => `${s.id}\n`).join('');
  else if (format === 'json') out = `${JSON.stringify(states)}\n`;
  else
    out = table([
      ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
      ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner || 'root']),
    ]);
  writeSync(1, out);
  return 0;
}

/** The first row is the header; every row has its columns. */
function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => r[c]?.length ?? 0)));
  return rows.map((r) => `${r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd((widths[c] ?? 0) + 3))).join('')}\n`).join('');
}
