import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../lib/errors.js';
import type { EtcFiles } from './etc-files.js';
import type { ContainerRecord, HostConfig } from './record.js';

/** `--network container:NAME|ID`: the container joins another's network namespace, as
 * docker's container network mode does; it makes no network of its own. */
export const JOIN_PREFIX = 'container:';

/** The NAME|ID a network mode joins, or undefined for any other mode. */
export function joinedName(mode: string): string | undefined {
  return mode.startsWith(JOIN_PREFIX) ? mode.slice(JOIN_PREFIX.length) : undefined;
}

/** What docker refuses with the mode: the network is the other container's, so nothing
 * of it can be set here (ports, addresses, names, the etc files). */
export function checkJoinRequest(host: HostConfig, opts: { exposed: boolean; aliases: boolean; ip: boolean; hostname: boolean }): void {
  const mode = host.NetworkMode;
  const refuse = (flag: string) =>
    new UserError(`${flag}: cannot be used with --network ${mode}: the network is the other container's`, {
      kind: 'invalid',
      field: 'NetworkMode',
    });
  if (joinedName(mode) === '')
    throw new UserError('--network container:: expected container:NAME or container:ID', { kind: 'invalid', field: 'NetworkMode' });
  if (Object.keys(host.PortBindings).length) throw refuse('-p');
  if (host.PublishAllPorts) throw refuse('-P');
  if (opts.exposed) throw refuse('--expose');
  if (opts.ip) throw refuse('--ip');
  if (opts.aliases) throw refuse('--network-alias');
  if (opts.hostname) throw refuse('--hostname');
  if (host.Dns?.length) throw refuse('--dns');
  if (host.ExtraHosts?.length) throw refuse('--add-host');
}

/** The other container must run: its namespace lives only as long as a process of it, or
 * its pinned file, does. */
export function checkJoinable(peer: ContainerRecord, mode: string): void {
  const s = peer.State.Status;
  if (s !== 'running' && s !== 'paused')
    throw new UserError(`--network ${mode}: container ${peer.Name} is ${s}, not running`, { kind: 'conflict', field: 'NetworkMode' });
}

/** The namespace to join: the other's pinned file when it has a network of its own (it
 * outlives a restart of its init), else its init's namespace (none, host, or a join). */
export function peerNetnsPath(peer: ContainerRecord, pinned: string): string {
  return existsSync(pinned) ? pinned : `/proc/${peer.State.Pid}/ns/net`;
}

/** docker shares the other container's hostname, hosts and resolv.conf files. */
export function peerEtcFiles(peerDir: string): EtcFiles {
  const etc = join(peerDir, 'etc');
  return { hostname: join(etc, 'hostname'), hosts: join(etc, 'hosts'), resolvConf: join(etc, 'resolv.conf') };
}
