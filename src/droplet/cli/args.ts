import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../../common/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with errors that name the command, e.g. `create: unknown option '--foo'`. */
export function parseCommand<T extends Options>(command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0].replace(/\. To specify a positional.*$/, '');
    throw new UsageError(`${command}: ${msg}`);
  }
}

export function onlyId(command: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`${command}: expects exactly one container id, got ${positionals.length}`);
  return positionals[0];
}
