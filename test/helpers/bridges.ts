import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Whether a test's bridge is still on the host. Bridge names are unique in one root only:
 * another test's root may have made one of the same name since, so a bridge of that name
 * counts only when it holds an address of the test's own subnet (a /24: "10.171.5.0/24"). */
export function bridgeLeft(name: string, subnet: string): boolean {
  if (!existsSync(`/sys/class/net/${name}`)) return false;
  const prefix = subnet.split('.').slice(0, 3).join('.');
  const addrs = spawnSync('ip', ['-4', '-o', 'addr', 'show', 'dev', name], { encoding: 'utf8' }).stdout ?? '';
  return addrs.includes(` ${prefix}.`);
}
