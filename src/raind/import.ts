import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { UsageError, UserError } from '../lib/errors.js';
import type { Engine, ImportOptions } from '../condenser/engine.js';
import { out } from './output.js';

/** `raind image import [--change INSTRUCTION]... FILE|- [REF]` */
export async function imageImport(engine: Engine, argv: string[]): Promise<number> {
  let parsed: { values: { change?: string[] }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { change: { type: 'string', short: 'c', multiple: true } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(`import: ${(e as Error).message}`);
  }
  const { values, positionals } = parsed;
  const [file, reference] = positionals;
  if (file === undefined || positionals.length > 2) throw new UsageError('import: expected FILE (or - for stdin) and an optional REF');
  const opts: ImportOptions = { changes: values.change ?? [], source: file };
  if (reference !== undefined) opts.reference = reference;
  if (file === '-' && process.stdin.isTTY) throw new UsageError('import: stdin is a terminal: pipe a tar in or name a FILE');
  let input: Readable = process.stdin;
  if (file !== '-') {
    const stream = createReadStream(file);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (e: Error) => reject(new UserError(`import: ${file}: ${e.message}`, { kind: 'not-found', cause: e })));
    });
    input = stream;
  }
  out(`${await engine.importImage(input, opts)}\n`);
  return 0;
}
