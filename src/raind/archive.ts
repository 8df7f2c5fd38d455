import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError, UserError } from '../lib/errors.js';
import type { ArchiveFormat, Engine } from '../condenser/engine.js';
import { familiarName } from '../condenser/images/names.js';
import { out } from './output.js';

type Options = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

function parse(cmd: string, argv: string[], options: Options): { values: Record<string, unknown>; positionals: string[] } {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as {
      values: Record<string, unknown>;
      positionals: string[];
    };
  } catch (e) {
    throw new UsageError(`${cmd}: ${(e as Error).message}`);
  }
}

/** `raind image save -o FILE [--format docker-archive|oci-archive] REF...`; without -o, to
 * stdout. A file is written beside its name and renamed when whole. */
export async function imageSave(engine: Engine, argv: string[]): Promise<number> {
  const { values, positionals } = parse('save', argv, { output: { type: 'string', short: 'o' }, format: { type: 'string' } });
  const format = (values.format as string | undefined) ?? 'docker-archive';
  if (format !== 'docker-archive' && format !== 'oci-archive')
    throw new UsageError(`save: --format must be docker-archive or oci-archive, not "${format}"`);
  if (positionals.length === 0) throw new UsageError('save: expected an image');
  const file = values.output as string | undefined;
  if (file === undefined) {
    if (process.stdout.isTTY) throw new UsageError('save: refusing to write an archive to a terminal: use -o FILE');
    await engine.saveImages(positionals, format as ArchiveFormat, process.stdout);
    return 0;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await engine.saveImages(positionals, format as ArchiveFormat, createWriteStream(tmp, { mode: 0o644 }));
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    if (!(err instanceof UserError) && (err as NodeJS.ErrnoException).code)
      throw new UserError(`save: ${file}: ${(err as Error).message}`, { kind: 'host', cause: err });
    throw err;
  }
  return 0;
}

/** `raind image load [-i FILE]`: from stdin without -i. */
export async function imageLoad(engine: Engine, argv: string[]): Promise<number> {
  const { values, positionals } = parse('load', argv, { input: { type: 'string', short: 'i' }, quiet: { type: 'boolean', short: 'q' } });
  if (positionals.length !== 0) throw new UsageError('load: unexpected arguments (use -i FILE)');
  const file = values.input as string | undefined;
  if (file === undefined && process.stdin.isTTY) throw new UsageError('load: stdin is a terminal: use -i FILE or pipe an archive in');
  const source = file === undefined ? process.stdin : createReadStream(file);
  if (file !== undefined) {
    await new Promise<void>((resolve, reject) => {
      source.once('open', () => resolve());
      source.once('error', (e: Error) => reject(new UserError(`load: ${file}: ${(e as Error).message}`, { kind: 'not-found', cause: e })));
    });
  }
  const { images } = await engine.loadImages(source);
  for (const i of images) {
    if (i.names.length === 0) out(`Loaded image ID: ${i.id}\n`);
    for (const n of i.names) out(`Loaded image: ${familiarName(n)}\n`);
  }
  return 0;
}
