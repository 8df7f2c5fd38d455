import type { Context } from '../container/lifecycle.js';
import { createContainer } from '../container/lifecycle.js';
import { onlyId, parseCommand } from './args.js';

export const CREATE_OPTIONS = {
  bundle: { type: 'string', short: 'b' },
  'pid-file': { type: 'string' },
  'no-pivot': { type: 'boolean' },
  'no-new-keyring': { type: 'boolean' },
} as const;

export function create(ctx: Context, argv: string[]): number {
  const { values, positionals } = parseCommand('create', argv, CREATE_OPTIONS);
  createContainer(ctx, {
    id: onlyId('create', positionals),
    bundle: values.bundle ?? process.cwd(),
    pidFile: values['pid-file'],
    noPivot: values['no-pivot'] ?? false,
    monitor: false,
  });
  return 0;
}
