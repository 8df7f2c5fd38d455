import { parseArgs } from 'node:util';
import { UsageError } from '../lib/errors.js';
import type { Engine, PushOptions } from '../condenser/engine.js';
import { err, out } from './output.js';

/** `raind image push REF`: the image's blobs the registry lacks, then its manifest. */
export async function imagePush(engine: Engine, argv: string[]): Promise<number> {
  let parsed: { values: { creds?: string; 'insecure-registry'?: string[]; quiet?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        creds: { type: 'string' },
        'insecure-registry': { type: 'string', multiple: true },
        quiet: { type: 'boolean', short: 'q' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(`push: ${(e as Error).message}`);
  }
  const { values, positionals } = parsed;
  const [reference] = positionals;
  if (positionals.length !== 1 || reference === undefined) throw new UsageError('push: expected one image reference');
  const opts: PushOptions = { insecure: values['insecure-registry'] ?? [] };
  if (values.creds !== undefined) {
    const colon = values.creds.indexOf(':');
    if (colon <= 0) throw new UsageError('push: --creds must be USER:PASSWORD');
    opts.credentials = { username: values.creds.slice(0, colon), password: values.creds.slice(colon + 1) };
  }
  if (!values.quiet) opts.progress = (line) => err(`${line}\n`);
  const { digest } = await engine.push(reference, opts);
  out(`${digest}\n`);
  return 0;
}
