import type { ParseArgsConfig } from 'node:util';
import { UsageError } from '../../lib/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<T extends Options> = ReturnType<typeof import('node:util').parseArgs<{ options: T; allowPositionals: true; strict: true }>>;

/** parseArgs with errors that name the command, e.g. `create: unknown option '--foo'`.
 * Without an argument that starts with "-" there is nothing for it to parse, and node:util
 * is not loaded: a millisecond of `state ID` or `start ID`. */
export function parseCommand<T extends Options>(command: string, argv: string[], options: T): Parsed<T> {
  if (!argv.some((a) => a.startsWith('-'))) return { values: {}, positionals: [...argv] } as unknown as Parsed<T>;
  const { parseArgs } = require('node:util') as typeof import('node:util');
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    // split() returns at least one part
    const msg = (err as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/, '');
    throw new UsageError(`${command}: ${msg}`);
  }
}

export function onlyId(command: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`${command}: expects exactly one container id, got ${positionals.length}`);
  return positionals[0]!; // the length is 1
}
