import type { Context, CreateOptions } from '../container/lifecycle.js';
import { createContainer } from '../container/lifecycle.js';
import { UserError } from '../../lib/errors.js';
import { onlyId, parseCommand } from './args.js';

export const CREATE_OPTIONS = {
  bundle: { type: 'string', short: 'b' },
  'pid-file': { type: 'string' },
  'console-socket': { type: 'string' },
  'preserve-fds': { type: 'string' },
  'no-pivot': { type: 'boolean' },
  'no-new-keyring': { type: 'boolean' },
} as const;

/** The options create and run share, as CreateOptions. */
export function createOptions(
  values: {
    bundle?: string;
    'pid-file'?: string;
    'console-socket'?: string;
    'preserve-fds'?: string;
    'no-pivot'?: boolean;
    'no-new-keyring'?: boolean;
  },
  id: string,
  monitor: boolean,
): CreateOptions {
  const preserve = values['preserve-fds'] ?? '0';
  if (!/^\d+$/.test(preserve) || Number(preserve) > 1024) throw new UserError(`--preserve-fds must be a number of fds, not "${preserve}"`);
  return {
    id,
    bundle: values.bundle ?? process.cwd(),
    pidFile: values['pid-file'],
    consoleSocket: values['console-socket'],
    preserveFds: Number(preserve),
    noPivot: values['no-pivot'] ?? false,
    noNewKeyring: values['no-new-keyring'] ?? false,
    monitor,
  };
}

export function create(ctx: Context, argv: string[]): number {
  const { values, positionals } = parseCommand('create', argv, CREATE_OPTIONS);
  createContainer(ctx, createOptions(values, onlyId('create', positionals), false));
  return 0;
}
