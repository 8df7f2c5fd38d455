import { constants } from 'node:os';
import { UsageError } from '../../lib/errors.js';
import { killContainer, type Context } from '../container/lifecycle.js';
import { parseCommand } from './args.js';

/** "TERM", "SIGTERM", "sigterm" or "15" (podman and containerd pass numbers). */
export function parseSignal(text: string): NodeJS.Signals | number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1 || n > 64) throw new UsageError(`kill: invalid signal "${text}"`);
    return n;
  }
  const upper = text.toUpperCase();
  const name = (upper.startsWith('SIG') ? upper : `SIG${upper}`) as NodeJS.Signals;
  if (!(name in constants.signals)) throw new UsageError(`kill: unknown signal "${text}"`);
  return name;
}

export function kill(ctx: Context, argv: string[]): number {
  const { values, positionals } = parseCommand('kill', argv, { all: { type: 'boolean', short: 'a' } });
  if (positionals.length < 1 || positionals.length > 2)
    throw new UsageError(`kill: expects a container id and an optional signal, got ${positionals.length} arguments`);
  killContainer(ctx, positionals[0], parseSignal(positionals[1] ?? 'TERM'), values.all ?? false);
  return 0;
}
