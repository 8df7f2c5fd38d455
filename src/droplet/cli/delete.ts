import { deleteContainer, type Context } from '../container/lifecycle.js';
import { onlyId, parseCommand } from './args.js';

export function del(ctx: Context, argv: string[]): number {
  const { values, positionals } = parseCommand('delete', argv, { force: { type: 'boolean', short: 'f' } });
  deleteContainer(ctx, onlyId('delete', positionals), values.force ?? false);
  return 0;
}
