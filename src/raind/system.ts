import type { Engine } from '../condenser/engine.js';
import { confirm } from './container-manage.js';
import { parseOptions } from './container-flags.js';
import { out } from './output.js';

/** system reset [-f]: every container, image and volume of this store, and everything in
 * --root and --runroot, removed; nothing left mounted. */
export async function systemReset(engine: Engine, argv: string[]): Promise<number> {
  const values = parseOptions('system reset', argv, { force: { type: 'boolean', short: 'f' } });
  if (
    values.force !== true &&
    !confirm(
      `WARNING! This will remove every container, image and volume of ${engine.opts.root}.\nAre you sure you want to continue? [y/N] `,
    )
  )
    return 1;
  const report = await engine.reset();
  out(`Removed ${report.containers.length} container(s) and ${report.images} image(s)\n`);
  return 0;
}
