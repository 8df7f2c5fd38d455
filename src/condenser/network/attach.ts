import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { UserError } from '../../lib/errors.js';
import type { NetworkConfig } from './config.js';
import type { Leases } from './leases.js';
import { type NetavarkOptions, netavarkName, netavarkNetwork, setup, teardown } from './netavark.js';
import { makeNetns, removeNetns } from './netns.js';
import { type PortBindings, type PublishedPort, netavarkPorts, resolvePorts } from './ports.js';
import type { EndpointSettings, NetworkSettings, PortMap } from './settings.js';

/** One network of a container: its interface in the namespace, the names it answers to. */
export interface Endpoint {
  network: NetworkConfig;
  /** eth0 for the first network, eth1… for the ones `network connect` adds */
  interfaceName: string;
  /** --network-alias: more names it answers to on the network */
  aliases: string[];
  /** --ip: this address rather than the next free one */
  ip?: string;
}

/** The container a network is set up for. */
export interface NetworkHolder {
  id: string;
  name: string;
  /** the container's run directory: `network.json` there says what to tear down */
  runDir: string;
  /** the pinned namespace's path: `<runRoot>/netns/<id>` */
  netns: string;
  /** --dns: where the network's DNS server forwards the names it does not know */
  dnsServers: string[];
}

export interface Attachment extends NetworkHolder {
  /** the first one is the container's main network, the one its ports are published on */
  endpoints: Endpoint[];
  ports: PortBindings;
}

/** What netavark was given, one setup per network: netavark takes a container's networks
 * in one call, but a call per network lets one be added or removed while the others stay. */
interface AttachmentState {
  netns: string;
  setups: NetavarkOptions[];
}

const statePath = (runDir: string) => join(runDir, 'network.json');

function readState(runDir: string): AttachmentState | undefined {
  try {
    const parsed = JSON.parse(readFileSync(statePath(runDir), 'utf8')) as AttachmentState & { options?: NetavarkOptions };
    /* the one-setup state of earlier versions */
    return { netns: parsed.netns, setups: parsed.setups ?? (parsed.options ? [parsed.options] : []) };
  } catch {
    return undefined;
  }
}

function writeState(runDir: string, state: AttachmentState): void {
  writeFileAtomic(statePath(runDir), `${JSON.stringify(state)}\n`, 0o600);
}

/** The container's network, made before its init exists: host ports checked, a namespace
 * pinned, then for each network an address (and on the first, the ports) leased and
 * netavark's setup (veth on the bridge, forwarding, masquerade). What netavark is given is
 * kept in the run directory first, so that a command killed at any step leaves what
 * `detach` undoes. */
export async function attach(a: Attachment, leases: Leases): Promise<NetworkSettings> {
  const published = await resolvePorts(a.ports, leases.heldPorts());
  makeNetns(a.netns);
  try {
    writeState(a.runDir, { netns: a.netns, setups: [] });
    const networks: Record<string, EndpointSettings> = {};
    a.endpoints.forEach((endpoint, i) => {
      networks[endpoint.network.name] = setUpEndpoint(a, endpoint, i === 0 ? published : [], leases);
    });
    const first = a.endpoints[0] && networks[a.endpoints[0].network.name];
    return {
      Bridge: a.endpoints[0]?.network.bridge ?? '',
      SandboxKey: a.netns,
      IPAddress: first?.IPAddress ?? '',
      IPPrefixLen: first?.IPPrefixLen ?? 0,
      Gateway: first?.Gateway ?? '',
      MacAddress: first?.MacAddress ?? '',
      ...(first?.GlobalIPv6Address
        ? {
            GlobalIPv6Address: first.GlobalIPv6Address,
            GlobalIPv6PrefixLen: first.GlobalIPv6PrefixLen ?? 0,
            IPv6Gateway: first.IPv6Gateway ?? '',
          }
        : {}),
      Ports: portMap(published),
      Networks: networks,
    };
  } catch (err) {
    detach(a.id, a.runDir, a.netns, leases);
    throw err;
  }
}

/** network connect of a container whose namespace is up: the network is added beside the
 * others, which stay as they are; `ports` are published on it (its NetworkMode's network,
 * back after a disconnect). */
export async function connect(
  h: NetworkHolder,
  endpoint: Endpoint,
  leases: Leases,
  ports: PortBindings = {},
): Promise<{ endpoint: EndpointSettings; ports: PortMap }> {
  const published = await resolvePorts(ports, leases.heldPorts());
  try {
    return { endpoint: setUpEndpoint(h, endpoint, published, leases), ports: portMap(published) };
  } catch (err) {
    try {
      disconnect(h.id, h.runDir, endpoint.network, leases, true);
    } catch {
      /* the setup's error is the one to tell */
    }
    throw err;
  }
}

function setUpEndpoint(h: NetworkHolder, endpoint: Endpoint, published: PublishedPort[], leases: Leases): EndpointSettings {
  const { network, interfaceName } = endpoint;
  const { address, address6 } = leases.take(network, { container: h.id, name: h.name, netns: h.netns }, published, endpoint.ip);
  const key = netavarkName(network);
  const aliases = [h.name, h.id, ...endpoint.aliases];
  const options: NetavarkOptions = {
    container_id: h.id,
    container_name: h.name,
    networks: { [key]: { interface_name: interfaceName, static_ips: address6 ? [address, address6] : [address], aliases } },
    network_info: { [key]: netavarkNetwork(network) },
    port_mappings: netavarkPorts(published),
    ...(h.dnsServers.length ? { dns_servers: h.dnsServers } : {}),
  };
  const state = readState(h.runDir) ?? { netns: h.netns, setups: [] };
  state.setups.push(options);
  writeState(h.runDir, state);
  const status = setup(state.netns, options);
  const iface = status[key]?.interfaces?.[interfaceName];
  const ipnets = (iface?.subnets ?? []).map((s) => s.ipnet);
  const ipnet = ipnets.find((n) => !n.includes(':')) ?? `${address}/${network.subnet.split('/')[1]}`;
  const [ip = address, prefix = '0'] = ipnet.split('/');
  const ipnet6 = address6 && (ipnets.find((n) => n.includes(':')) ?? `${address6}/${network.ipv6Subnet?.split('/')[1]}`);
  const [ip6 = '', prefix6 = '0'] = ipnet6 ? ipnet6.split('/') : [];
  return {
    NetworkID: network.id,
    Gateway: network.gateway,
    IPAddress: ip,
    IPPrefixLen: Number(prefix),
    MacAddress: iface?.mac_address ?? '',
    Aliases: aliases,
    ...(ipnet6 ? { GlobalIPv6Address: ip6, GlobalIPv6PrefixLen: Number(prefix6), IPv6Gateway: network.ipv6Gateway ?? '' } : {}),
  };
}

/** network disconnect: netavark's teardown of that one network, its address (and the host
 * ports published on it) released. A teardown that fails is kept to be done again, unless
 * `force`. */
export function disconnect(id: string, runDir: string, network: NetworkConfig, leases: Leases, force = false): void {
  const state = readState(runDir);
  const key = netavarkName(network);
  const options = state?.setups.find((o) => o.network_info[key]);
  if (state && options) {
    const failure = tearDownQuietly(state.netns, options);
    if (failure && !force) throw failure;
    state.setups = state.setups.filter((o) => o !== options);
    writeState(runDir, state);
    if (options.port_mappings.length) leases.releasePorts(id);
  }
  leases.releaseAddress(id, network.bridge);
}

/** Undoes whatever of `attach` was done: netavark's teardown of each network (veth, rules;
 * the bridge with its last container), the namespace, the leases. Safe to run again. */
export function detach(id: string, runDir: string, netns: string, leases: Leases): void {
  const state = readState(runDir);
  let failure: unknown;
  for (const options of [...(state?.setups ?? [])].reverse()) failure = tearDownQuietly(state?.netns ?? netns, options) ?? failure;
  removeNetns(state?.netns ?? netns);
  leases.release(id);
  rmSync(statePath(runDir), { force: true });
  if (failure) throw failure;
}

/** A setup that never ran has nothing to tear down; any other failure is returned, to be
 * told after the rest is undone. */
function tearDownQuietly(netns: string, options: NetavarkOptions): unknown {
  try {
    teardown(netns, options);
    return undefined;
  } catch (err) {
    if (!(err instanceof UserError) || !/no such|not found|does not exist/i.test(err.message)) return err;
    return undefined;
  }
}

function portMap(ports: PublishedPort[]): PortMap {
  const map: PortMap = {};
  for (const p of ports) {
    const key = `${p.containerPort}/${p.protocol}`;
    map[key] = [...(map[key] ?? []), { HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) }];
  }
  return map;
}
