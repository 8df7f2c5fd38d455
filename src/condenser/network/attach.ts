import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { UserError } from '../../lib/errors.js';
import type { NetworkConfig } from './config.js';
import type { Leases } from './leases.js';
import { type NetavarkOptions, netavarkName, netavarkNetwork, setup, teardown } from './netavark.js';
import { makeNetns, removeNetns } from './netns.js';
import { type PortBindings, type PublishedPort, netavarkPorts, resolvePorts } from './ports.js';
import type { NetworkSettings, PortMap } from './settings.js';

export interface Attachment {
  id: string;
  name: string;
  /** the container's run directory: `network.json` there says what to tear down */
  runDir: string;
  /** the pinned namespace's path: `<runRoot>/netns/<id>` */
  netns: string;
  network: NetworkConfig;
  ports: PortBindings;
  /** --network-alias: more names it answers to on the network */
  aliases: string[];
  /** --ip: this address rather than the next free one */
  ip?: string;
  /** --dns: where the network's DNS server forwards the names it does not know */
  dnsServers: string[];
}

interface AttachmentState {
  netns: string;
  options: NetavarkOptions;
}

const statePath = (runDir: string) => join(runDir, 'network.json');

/** The container's network, made before its init exists: host ports checked, a namespace
 * pinned, an address and the ports leased, then netavark's setup (veth on the bridge,
 * forwarding, masquerade). What netavark is given is kept in the run directory first, so
 * that a command killed at any step leaves what `detach` undoes. */
export async function attach(a: Attachment, leases: Leases): Promise<NetworkSettings> {
  const published = await resolvePorts(a.ports, leases.heldPorts());
  makeNetns(a.netns);
  try {
    const address = leases.take(a.network, { container: a.id, name: a.name, netns: a.netns }, published, a.ip);
    const key = netavarkName(a.network);
    const options: NetavarkOptions = {
      container_id: a.id,
      container_name: a.name,
      networks: { [key]: { interface_name: 'eth0', static_ips: [address], aliases: [a.name, a.id, ...a.aliases] } },
      network_info: { [key]: netavarkNetwork(a.network) },
      port_mappings: netavarkPorts(published),
      ...(a.dnsServers.length ? { dns_servers: a.dnsServers } : {}),
    };
    writeFileAtomic(statePath(a.runDir), `${JSON.stringify({ netns: a.netns, options } satisfies AttachmentState)}\n`, 0o600);
    const status = setup(a.netns, options);
    const eth0 = status[key]?.interfaces?.eth0;
    const ipnet = eth0?.subnets?.[0]?.ipnet ?? `${address}/${a.network.subnet.split('/')[1]}`;
    const [ip = address, prefix = '0'] = ipnet.split('/');
    const endpoint = {
      NetworkID: a.network.id,
      Gateway: a.network.gateway,
      IPAddress: ip,
      IPPrefixLen: Number(prefix),
      MacAddress: eth0?.mac_address ?? '',
      Aliases: [a.name, a.id, ...a.aliases],
    };
    return {
      Bridge: a.network.bridge,
      SandboxKey: a.netns,
      IPAddress: endpoint.IPAddress,
      IPPrefixLen: endpoint.IPPrefixLen,
      Gateway: endpoint.Gateway,
      MacAddress: endpoint.MacAddress,
      Ports: portMap(published),
      Networks: { [a.network.name]: endpoint },
    };
  } catch (err) {
    detach(a.id, a.runDir, a.netns, leases);
    throw err;
  }
}

/** Undoes whatever of `attach` was done: netavark's teardown (veth, rules; the bridge with
 * its last container), the namespace, the leases. Safe to run again. */
export function detach(id: string, runDir: string, netns: string, leases: Leases): void {
  let state: AttachmentState | undefined;
  try {
    state = JSON.parse(readFileSync(statePath(runDir), 'utf8')) as AttachmentState;
  } catch {
    state = undefined;
  }
  let failure: unknown;
  if (state) {
    try {
      teardown(state.netns, state.options);
    } catch (err) {
      /* a setup that never ran has nothing to tear down; any other failure is told after
       * the rest is undone */
      if (!(err instanceof UserError) || !/no such|not found|does not exist/i.test(err.message)) failure = err;
    }
  }
  removeNetns(state?.netns ?? netns);
  leases.release(id);
  rmSync(statePath(runDir), { force: true });
  if (failure) throw failure;
}

function portMap(ports: PublishedPort[]): PortMap {
  const map: PortMap = {};
  for (const p of ports) {
    const key = `${p.containerPort}/${p.protocol}`;
    map[key] = [...(map[key] ?? []), { HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) }];
  }
  return map;
}
