import { parseArgs } from 'node:util';
import { UsageError } from '../lib/errors.js';
import type { Engine } from '../condenser/engine.js';
import { humanSize, out, table, timeAgo } from './output.js';

/** docker's width for CREATED BY, unless --no-trunc */
const CREATED_BY_WIDTH = 45;

/** `raind image history [--format table|json] [--no-trunc] [-q] REF` */
export function imageHistory(engine: Engine, argv: string[]): number {
  let parsed: { values: { format?: string; 'no-trunc'?: boolean; quiet?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { format: { type: 'string' }, 'no-trunc': { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(`history: ${(e as Error).message}`);
  }
  const { values, positionals } = parsed;
  const [ref] = positionals;
  if (positionals.length !== 1 || ref === undefined) throw new UsageError('history: expected one image');
  const format = values.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError(`history: --format must be table or json, not "${format}"`);
  const steps = engine.imageHistory(ref);
  const full = Boolean(values['no-trunc']);
  const id = (i: string) => (i.startsWith('sha256:') && !full ? i.slice(7, 19) : i);
  if (values.quiet) out(steps.map((s) => `${id(s.Id)}\n`).join(''));
  else if (format === 'json') out(`${JSON.stringify(steps, null, 2)}\n`);
  else {
    const by = (s: string) => {
      const flat = s.replace(/\s+/g, ' ');
      return full || flat.length <= CREATED_BY_WIDTH ? flat : `${flat.slice(0, CREATED_BY_WIDTH - 1)}…`;
    };
    out(
      table(
        ['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'],
        steps.map((s) => [id(s.Id), timeAgo(s.Created), by(s.CreatedBy), humanSize(s.Size), s.Comment]),
      ),
    );
  }
  return 0;
}
