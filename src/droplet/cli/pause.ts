import { UserError } from '../../lib/errors.js';
import { containerFreezer, freeze } from '../../linux/cgroups/freezer.js';
import type { Context } from '../container/lifecycle.js';
import { onlyId, parseCommand } from './args.js';
import { withLockedContainer } from './locked-container.js';

/** pause: freezes every process of the container (v1 freezer or cgroup.freeze); `state`
 * then shows "paused". */
export function pause(ctx: Context, argv: string[]): number {
  const { positionals } = parseCommand('pause', argv, {});
  const id = onlyId('pause', positionals);
  withLockedContainer(ctx, id, (state, status) => {
    if (status !== 'running' && status !== 'created') throw new UserError(`cannot pause a container that is ${status}`, { kind: 'conflict' });
    const f = containerFreezer(state.cgroups);
    if (!f) throw new UserError('this host has no cgroup freezer (no v1 freezer controller, no cgroup2 mount)');
    freeze(f);
  });
  return 0;
}
