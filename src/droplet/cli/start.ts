import { startContainer, type Context } from '../container/lifecycle.js';
import { onlyId, parseCommand } from './args.js';

export function start(ctx: Context, argv: string[]): number {
  const { positionals } = parseCommand('start', argv, {});
  startContainer(ctx, onlyId('start', positionals));
  return 0;
}
