import { readSync } from 'node:fs';
import { UsageError } from '../lib/errors.js';
import type { Engine } from '../condenser/engine.js';
import { parseOptions, splitAtPositional } from './container-flags.js';
import { humanSize, out } from './output.js';

/** rename OLD NEW */
export async function containerRename(engine: Engine, argv: string[]): Promise<number> {
  if (argv.length !== 2) throw new UsageError('rename: expected the container and its new name');
  await engine.containers.rename(argv[0] ?? '', argv[1] ?? '');
  return 0;
}

/** container prune [-f]: every container that is not running goes. Without -f, as
 * docker, it asks first; with no terminal to ask, -f is required. */
export async function containerPrune(engine: Engine, argv: string[]): Promise<number> {
  const options = { force: { type: 'boolean', short: 'f' }, filter: { type: 'string', multiple: true } } as const;
  const split = splitAtPositional(argv, options);
  const values = parseOptions('container prune', split.options, options);
  if (split.rest.length > 0) throw new UsageError(`container prune: unexpected argument "${split.rest[0]}"`);
  if (values.filter !== undefined) throw new UsageError('container prune: --filter is not supported');
  if (values.force !== true && !confirm('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] '))
    return 1;
  const report = await engine.containers.prune();
  if (report.ContainersDeleted.length > 0) out(`Deleted Containers:\n${report.ContainersDeleted.map((id) => `${id}\n`).join('')}\n`);
  out(`Total reclaimed space: ${humanSize(report.SpaceReclaimed)}\n`);
  return 0;
}

/** A yes from the terminal; no terminal is a no, and says how to go on without one. */
export function confirm(question: string): boolean {
  if (!process.stdin.isTTY) throw new UsageError('refusing to ask without a terminal: use -f');
  out(question);
  const buf = Buffer.alloc(256);
  let n = 0;
  try {
    n = readSync(0, buf, 0, buf.length, null);
  } catch {
    return false;
  }
  return /^\s*y(es)?\s*$/i.test(buf.subarray(0, n).toString('utf8'));
}
