import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../lib/errors.js';
import { withLock } from '../../lib/lock.js';
import { DEFAULT_NETWORK, type NetworkConfig, defaultNetwork } from './config.js';
import { keepBridge } from './keep-bridge.js';
import { HOST_NETWORK_STATE } from './leases.js';

/** netavark's input (its types.rs of 1.4): one container on some networks. */
export interface NetavarkOptions {
  container_id: string;
  container_name: string;
  networks: Record<string, { interface_name: string; static_ips: string[]; aliases: string[] }>;
  network_info: Record<string, NetavarkNetwork>;
  port_mappings: NetavarkPortMapping[];
  dns_servers?: string[];
}

export interface NetavarkNetwork {
  name: string;
  id: string;
  driver: 'bridge';
  network_interface: string;
  subnets: { subnet: string; gateway: string }[];
  internal: boolean;
  ipv6_enabled: boolean;
  dns_enabled: boolean;
  ipam_options: { driver: string };
}

export interface NetavarkPortMapping {
  host_ip: string;
  container_port: number;
  host_port: number;
  range: number;
  protocol: 'tcp' | 'udp';
}

/** netavark's answer to setup: per network, the interfaces made in the namespace. */
export type NetavarkStatus = Record<
  string,
  { interfaces?: Record<string, { mac_address: string; subnets?: { ipnet: string; gateway?: string }[] }> }
>;

const NETAVARK_PATHS = ['/usr/libexec/podman/netavark', '/usr/lib/podman/netavark'];
const AARDVARK_PATHS = ['/usr/libexec/podman/aardvark-dns', '/usr/lib/podman/aardvark-dns'];

/** netavark's name of a network: its id. netavark names the firewall chains and the DNS
 * server's files after it, and those are the host's: two roots may both have a "web". */
export const netavarkName = (n: NetworkConfig) => n.id;

/** A user network resolves its containers' names (aardvark-dns on its gateway); the
 * default one does not, as docker's default bridge. */
export const hasDns = (n: NetworkConfig) => n.name !== DEFAULT_NETWORK;

export function netavarkNetwork(n: NetworkConfig): NetavarkNetwork {
  return {
    name: netavarkName(n),
    id: n.id,
    driver: 'bridge',
    network_interface: n.bridge,
    subnets: [
      { subnet: n.subnet, gateway: n.gateway },
      ...(n.ipv6Subnet && n.ipv6Gateway ? [{ subnet: n.ipv6Subnet, gateway: n.ipv6Gateway }] : []),
    ],
    internal: n.internal,
    ipv6_enabled: n.ipv6Subnet !== undefined,
    dns_enabled: hasDns(n),
    ipam_options: { driver: 'host-local' },
  };
}

export function setup(netns: string, options: NetavarkOptions): NetavarkStatus {
  const text = run('setup', netns, options);
  try {
    return JSON.parse(text) as NetavarkStatus;
  } catch {
    throw new UserError(`netavark setup: unexpected answer "${text.slice(0, 200)}"`);
  }
}

export function teardown(netns: string, options: NetavarkOptions): void {
  run('teardown', netns, options);
}

/** netavark is run holding a host-wide lock: it creates and deletes the shared bridge and
 * its firewall chains, which two runs at once would race on (podman locks it too). */
function run(verb: 'setup' | 'teardown', netns: string, options: NetavarkOptions): string {
  const binary = NETAVARK_PATHS.find((p) => exists(p));
  if (!binary) throw new UserError('netavark is not installed (the network stack; Debian package netavark)');
  const config = join(HOST_NETWORK_STATE, 'netavark');
  mkdirSync(config, { recursive: true, mode: 0o700 });
  const aardvark = AARDVARK_PATHS.find((p) => exists(p));
  const dns = Object.values(options.network_info).some((n) => n.dns_enabled);
  if (dns && !aardvark) throw new UserError('aardvark-dns is not installed (names on user networks; Debian package aardvark-dns)');
  const args = ['--config', config, ...(dns && aardvark ? ['--aardvark-binary', aardvark] : []), verb, netns];
  const r = withLock(config, 'netavark', () => {
    const result = spawnSync(binary, args, { input: JSON.stringify(options), encoding: 'utf8' });
    const main = Object.values(options.network_info).find((n) => n.id === defaultNetwork().id);
    if (verb === 'setup' && result.status === 0 && main) keepBridge(main.network_interface);
    return result;
  });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').pop() ?? '';
    throw new UserError(`netavark ${verb}: ${why.replace(/^\[[^\]]*\]\s*/, '')}`);
  }
  return r.stdout;
}

function exists(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
