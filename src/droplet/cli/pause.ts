import { UserError } from '../../lib/errors.js';
import { cgroupManager } from '../../linux/cgroups/manager.js';
import type { Context } from '../container/lifecycle.js';
import { onlyId, parseCommand } from './args.js';
import { withLockedContainer } from './locked-container.js';

/** pause: freezes every process of the container (v1 freezer or cgroup.freeze); `state`
 * then shows "paused". */
export function pause(ctx: Context, argv: string[]): number {
  const { positionals } = parseCommand('pause', argv, {});
  const id = onlyId('pause', positionals);
  withLockedContainer(ctx, id, (state, status) => {
    if (status !== 'running' && status !== 'created')
      throw new UserError(`cannot pause a container that is ${status}`, { kind: 'conflict' });
    cgroupManager(state.cgroups).freeze();
  });
  return 0;
}
