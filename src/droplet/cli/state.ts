import { writeSync } from 'node:fs';
import type { Context } from '../container/lifecycle.js';
import { deriveStatus, publicState } from '../container/status.js';
import { validateId } from '../container/store.js';
import { onlyId, parseCommand } from './args.js';

export function state(ctx: Context, argv: string[]): number {
  const { positionals } = parseCommand('state', argv, {});
  const id = validateId(onlyId('state', positionals));
  const stored = ctx.store.read(id);
  const doc = publicState(stored, deriveStatus(stored, ctx.store.dir(id)));
  writeSync(1, `${JSON.stringify(doc, null, 2)}\n`);
  return 0;
}
