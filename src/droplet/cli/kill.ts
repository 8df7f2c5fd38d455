import { parseSignal } from '../../lib/signals.js';
import { UsageError } from '../../lib/errors.js';
import { killContainer, type Context } from '../container/lifecycle.js';
import { parseCommand } from './args.js';

export function kill(ctx: Context, argv: string[]): number {
  const { values, positionals } = parseCommand('kill', argv, { all: { type: 'boolean', short: 'a' } });
  const [id, signal = 'TERM'] = positionals;
  if (id === undefined || positionals.length > 2)
    throw new UsageError(`kill: expects a container id and an optional signal, got ${positionals.length} arguments`);
  killContainer(ctx, id, parseSignal(signal, 'kill'), values.all ?? false);
  return 0;
}
