import type { Logger } from '../../lib/log.js';
import { cgroupManager, type CgroupManager } from '../../linux/cgroups/manager.js';
import { createContainer, startContainer, type Context } from '../container/lifecycle.js';
import { teardown } from '../container/teardown.js';
import { onlyId, parseCommand } from './args.js';
import { CREATE_OPTIONS, createOptions } from './create.js';
import { proxyTerminal } from '../../lib/terminal-proxy.js';

/** Signals a foreground `run` passes on to the container, as runc does. */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'];

/** run = create + start; in the foreground droplet waits, forwards signals, removes the
 * container when it exits, and exits with its code (128+n if a signal killed it). */
export async function run(ctx: Context, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('run', argv, { ...CREATE_OPTIONS, detach: { type: 'boolean', short: 'd' } });
  const id = onlyId('run', positionals);
  const detach = values.detach ?? false;
  const init = createContainer(ctx, createOptions(values, id, !detach));
  const forward = (sig: NodeJS.Signals) => init.kill(sig);
  if (!detach) for (const sig of FORWARDED) process.on(sig, forward);
  const terminal = init.consoleMaster === undefined ? undefined : proxyTerminal(init.consoleMaster);
  try {
    startContainer(ctx, id);
  } catch (err) {
    if (!detach) {
      init.abort();
      teardown(ctx.store.read(id), ctx.store);
    }
    throw err;
  }
  if (detach) return 0;
  const code = await init.waitExit();
  if (terminal) {
    await terminal.done;
    terminal.restore();
  }
  ctx.log.phase(`run ${id}: container exited with ${code}`);
  for (const sig of FORWARDED) process.off(sig, forward);
  reportOomKills(cgroupManager(ctx.store.read(id).cgroups), ctx.log);
  teardown(ctx.store.read(id), ctx.store, ctx.log);
  ctx.log.phase(`run ${id}: removed`);
  return code;
}

/** After a foreground run: says so when the OOM killer killed processes of the container,
 * which otherwise only shows as an exit by SIGKILL (137). */
function reportOomKills(cgroups: CgroupManager, log: Logger): void {
  const n = cgroups.oomKillCount();
  if (n) log.warn(`the OOM killer killed ${n} process${n > 1 ? 'es' : ''} of the container: it reached its memory limit`);
}
