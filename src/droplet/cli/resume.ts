import { UserError } from '../../lib/errors.js';
import { cgroupManager } from '../../linux/cgroups/manager.js';
import type { Context } from '../container/lifecycle.js';
import { onlyId, parseCommand } from './args.js';
import { withLockedContainer } from './locked-container.js';

/** resume: thaws a paused container. */
export function resume(ctx: Context, argv: string[]): number {
  const { positionals } = parseCommand('resume', argv, {});
  const id = onlyId('resume', positionals);
  withLockedContainer(ctx, id, (state, status) => {
    if (status !== 'paused') throw new UserError(`cannot resume a container that is ${status} (it must be paused)`, { kind: 'conflict' });
    cgroupManager(state.cgroups).thaw();
  });
  return 0;
}
