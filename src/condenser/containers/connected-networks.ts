import { UserError } from '../../lib/errors.js';
import type { Endpoint } from '../network/attach.js';
import type { NetworkConfig } from '../network/config.js';
import { hasDns } from '../network/netavark.js';
import type { EndpointSettings } from '../network/settings.js';
import { type NetworkStore, checkAddress } from '../network/store.js';
import type { ConnectedNetwork, ContainerRecord } from './record.js';

/** network connect's request, docker's EndpointConfig: {Aliases, IPAMConfig: {IPv4Address}}. */
export interface ConnectOptions {
  aliases?: string[];
  ip?: string;
}

const ALIAS = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The container's networks in the order they are set up: NetworkMode's on eth0 (unless
 * disconnected), then the ones `network connect` added. */
export function containerEndpoints(record: ContainerRecord, primary: NetworkConfig, networks: NetworkStore): Endpoint[] {
  const endpoints: Endpoint[] = [];
  if (!record.NetworkModeDisconnected)
    endpoints.push({
      network: primary,
      interfaceName: 'eth0',
      aliases: record.NetworkAliases ?? [],
      ...(record.NetworkIP ? { ip: record.NetworkIP } : {}),
    });
  for (const c of Object.values(record.ConnectedNetworks ?? {}))
    endpoints.push({
      network: networks.get(c.NetworkID),
      interfaceName: c.Interface,
      aliases: c.Aliases,
      ...(c.IPv4Address ? { ip: c.IPv4Address } : {}),
    });
  return endpoints;
}

/** The DNS servers of its user networks answer for the containers' names and forward the
 * rest (to --dns's servers when given); without one, --dns's servers or the host's. */
export function nameserversOf(networks: NetworkConfig[], dns: string[]): string[] | undefined {
  const servers = networks.filter(hasDns).map((n) => n.gateway);
  return servers.length ? servers : dns.length ? dns : undefined;
}

/** What network connect adds to the record, checked: the container has a network of its
 * own, is not on this one yet, and the address asked for is one of it. `primary` when the
 * network is NetworkMode's, given back after a disconnect: eth0 again. */
export function connection(
  record: ContainerRecord,
  primary: NetworkConfig | undefined,
  network: NetworkConfig,
  opts: ConnectOptions,
): { entry: ConnectedNetwork; primary: boolean } {
  if (!primary)
    throw new UserError(
      `network connect: container ${record.Name} has --network ${record.HostConfig.NetworkMode}: it cannot be connected to a network`,
      { kind: 'conflict', field: 'Container' },
    );
  const connected = Object.values(record.ConnectedNetworks ?? {});
  const isPrimary = primary.id === network.id;
  if ((isPrimary && !record.NetworkModeDisconnected) || connected.some((c) => c.NetworkID === network.id))
    throw new UserError(`network connect: container ${record.Name} is already connected to network ${network.name}`, { kind: 'conflict' });
  for (const a of opts.aliases ?? [])
    if (!ALIAS.test(a))
      throw new UserError(`network connect: --alias "${a}" must be letters, digits, "_", "." or "-"`, {
        kind: 'invalid',
        field: 'EndpointConfig',
      });
  if (opts.ip) checkAddress(network, opts.ip);
  const used = new Set(['eth0', ...connected.map((c) => c.Interface)]);
  let n = 1;
  while (used.has(`eth${n}`)) n++;
  const entry = {
    NetworkID: network.id,
    Interface: isPrimary ? 'eth0' : `eth${n}`,
    Aliases: opts.aliases ?? [],
    ...(opts.ip ? { IPv4Address: opts.ip } : {}),
  };
  return { entry, primary: isPrimary };
}

/** The network network disconnect takes off: one network connect added (by the name it is
 * recorded under), or NetworkMode's (`primary`); else a one-line refusal. */
export function connectedTo(
  record: ContainerRecord,
  primary: NetworkConfig | undefined,
  network: NetworkConfig,
): { name: string; primary: boolean } {
  const found = Object.entries(record.ConnectedNetworks ?? {}).find(([, c]) => c.NetworkID === network.id);
  if (found) return { name: found[0], primary: false };
  if (primary?.id === network.id && !record.NetworkModeDisconnected) return { name: network.name, primary: true };
  throw new UserError(`network disconnect: container ${record.Name} is not connected to network ${network.name}`, { kind: 'conflict' });
}

/** The top-level fields of NetworkSettings, docker's for the main network: from its
 * endpoint, or empty without one. */
export function mainEndpointSettings(bridge: string, e: EndpointSettings | undefined) {
  return {
    Bridge: e ? bridge : '',
    IPAddress: e?.IPAddress ?? '',
    IPPrefixLen: e?.IPPrefixLen ?? 0,
    Gateway: e?.Gateway ?? '',
    MacAddress: e?.MacAddress ?? '',
    ...(e?.GlobalIPv6Address
      ? { GlobalIPv6Address: e.GlobalIPv6Address, GlobalIPv6PrefixLen: e.GlobalIPv6PrefixLen ?? 0, IPv6Gateway: e.IPv6Gateway ?? '' }
      : {}),
  };
}
