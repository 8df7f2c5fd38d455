import { constants, openSync, closeSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, errnoCode, reason } from '../../lib/errors.js';
import { defaultSpec } from '../../oci/default-spec.js';
import { parseCommand } from './args.js';

export function spec(argv: string[]): number {
  const { values, positionals } = parseCommand('spec', argv, { bundle: { type: 'string', short: 'b' } });
  if (positionals.length) throw new UsageError(`spec: unexpected argument "${positionals[0]}"`);
  const file = join(values.bundle ?? process.cwd(), 'config.json');
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') throw new UsageError(`spec: ${file} exists; remove it first`);
    throw new UsageError(`spec: create ${file}: ${reason(err)}`);
  }
  writeSync(fd, `${JSON.stringify(defaultSpec(), null, 2)}\n`);
  closeSync(fd);
  return 0;
}
