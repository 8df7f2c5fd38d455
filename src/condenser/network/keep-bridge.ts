import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import { readlinkSync } from 'node:fs';

/** raind0 stays up between containers, as docker0 does: netavark removes a bridge (and its
 * chains) with its last port, and a lone `run --rm` would then make and remove them each
 * time, two thirds of its network's cost. A tap device, `<bridge>-keep`, that nothing
 * opens, is a port that keeps it. Without one (no tun on the host) the bridge just comes
 * and goes with its containers. Run under netavark's lock, after a setup made the bridge. */
export function keepBridge(bridge: string): void {
  const keeper = `${bridge}-keep`;
  let master: string | undefined;
  try {
    master = basename(readlinkSync(`/sys/class/net/${keeper}/master`));
  } catch {
    master = undefined;
  }
  if (master === bridge) return;
  spawnSync('ip', ['tuntap', 'add', 'dev', keeper, 'mode', 'tap'], { stdio: 'ignore' });
  spawnSync('ip', ['link', 'set', keeper, 'master', bridge], { stdio: 'ignore' });
}
