import { parseArgs } from 'node:util';
import { UsageError } from '../lib/errors.js';
import type { Engine } from '../condenser/engine.js';
import { humanSize, out } from './output.js';

/** `raind image prune`: dangling images, then what no image uses; prints both as docker. */
export async function imagePrune(engine: Engine, argv: string[]): Promise<number> {
  try {
    /* -f is docker's "do not ask": raind never asks */
    const { positionals } = parseArgs({ args: argv, options: { force: { type: 'boolean', short: 'f' } }, allowPositionals: true });
    if (positionals.length) throw new UsageError('prune: takes no arguments');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`prune: ${(e as Error).message}`);
  }
  const r = await engine.pruneImages();
  let text = '';
  if (r.deleted.length) text += `Deleted Images:\n${r.deleted.map((d) => `deleted: ${d}\n`).join('')}\n`;
  if (r.blobs || r.layers) text += `Removed ${r.blobs} blob${r.blobs === 1 ? '' : 's'} and ${r.layers} layer${r.layers === 1 ? '' : 's'}\n`;
  out(`${text}Total reclaimed space: ${humanSize(r.reclaimed)}\n`);
  return 0;
}
