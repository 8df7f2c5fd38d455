import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { UserError } from '../../lib/errors.js';
import { withLock } from '../../lib/lock.js';
import type { NetworkConfig } from './config.js';
import { formatAddress, parseAddress, parseSubnet, size } from './ipv4.js';
import { formatAddress6, parseAddress6, parseSubnet6, size6 } from './ipv6.js';

/** Host-wide network state. Bridges are the host's, shared by every root (raind0 is
 * host-wide, like docker0), so the addresses on them and the host ports published must be
 * too: two engines with different --root on one host must never hand out the same one.
 * A lease lives while its container's network does, so it belongs in /run. */
export const HOST_NETWORK_STATE = '/run/raind-networks';

/** What one container holds: an address on a bridge, and host ports. */
export interface Lease {
  container: string;
  name: string;
  /** the container's pinned network namespace: a lease whose file is gone is stale (its
   * root was deleted without a teardown) and is released */
  netns: string;
}

interface LeaseFile {
  /** bridge -> address -> holder */
  addresses: Record<string, Record<string, Lease>>;
  /** bridge -> the last address handed out: the next starts after it, so an address just
   * released is not reused at once (peers may still have it in their ARP caches) */
  last: Record<string, string>;
  /** "tcp/127.0.0.1/8080" -> holder */
  ports: Record<string, Lease>;
}

/** A host port to publish; hostIp "" is every address. */
export interface HostPort {
  protocol: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
  /** how the user asked for it, for errors: `-p 127.0.0.1:8080:80/tcp` */
  label?: string;
}

export const portKey = (p: HostPort) => `${p.protocol}/${p.hostIp || '0.0.0.0'}/${p.hostPort}`;

/** The leases file, changed under its directory's lock. */
export class Leases {
  constructor(readonly dir = HOST_NETWORK_STATE) {}

  private get file(): string {
    return join(this.dir, 'leases.json');
  }

  private change<T>(fn: (state: LeaseFile) => T): T {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    return withLock(this.dir, 'the network leases', () => {
      const state = this.read();
      pruneStale(state);
      const result = fn(state);
      writeFileAtomic(this.file, `${JSON.stringify(state)}\n`);
      return result;
    });
  }

  private read(): LeaseFile {
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<LeaseFile>;
      return { addresses: parsed.addresses ?? {}, last: parsed.last ?? {}, ports: parsed.ports ?? {} };
    } catch {
      return { addresses: {}, last: {}, ports: {} };
    }
  }

  /** An address of the network for the container (and one of its IPv6 prefix), and its host
   * ports, taken together: a port another container holds is refused, naming it. */
  take(network: NetworkConfig, holder: Lease, ports: HostPort[], requested?: string): { address: string; address6?: string } {
    return this.change((state) => {
      for (const p of ports) {
        const clash = conflictingPort(state, p);
        if (clash && clash.container !== holder.container)
          throw new UserError(
            `${p.label ?? `-p ${p.hostPort}`}: the host port is already published by container ${clash.name || clash.container}`,
            {
              kind: 'conflict',
              field: 'PortBindings',
            },
          );
      }
      const used = state.addresses[network.bridge] ?? {};
      state.addresses[network.bridge] = used;
      const address = requested ?? nextFree(network, used, state.last[network.bridge]);
      if (requested && used[requested] && used[requested].container !== holder.container)
        throw new UserError(`--ip ${requested}: in use by container ${used[requested].name || used[requested].container}`, {
          kind: 'conflict',
        });
      used[address] = holder;
      state.last[network.bridge] = address;
      const address6 = network.ipv6Subnet ? nextFree6(network, used, state.last[`${network.bridge}/6`]) : undefined;
      if (address6) {
        used[address6] = holder;
        state.last[`${network.bridge}/6`] = address6;
      }
      for (const p of ports) state.ports[portKey(p)] = holder;
      return { address, ...(address6 ? { address6 } : {}) };
    });
  }

  /** Whatever the container holds goes. */
  release(container: string): void {
    if (!existsSync(this.file)) return;
    this.change((state) => {
      for (const used of Object.values(state.addresses))
        for (const [addr, lease] of Object.entries(used)) if (lease.container === container) delete used[addr];
      for (const [key, lease] of Object.entries(state.ports)) if (lease.container === container) delete state.ports[key];
    });
  }

  /** The container's address on one bridge goes (network disconnect); its ports stay. */
  releaseAddress(container: string, bridge: string): void {
    if (!existsSync(this.file)) return;
    this.change((state) => {
      const used = state.addresses[bridge] ?? {};
      for (const [addr, lease] of Object.entries(used)) if (lease.container === container) delete used[addr];
    });
  }

  /** The container's host ports go (its ports' network disconnected); its addresses stay. */
  releasePorts(container: string): void {
    if (!existsSync(this.file)) return;
    this.change((state) => {
      for (const [key, lease] of Object.entries(state.ports)) if (lease.container === container) delete state.ports[key];
    });
  }

  /** Ports held by containers, for a free port's pick. */
  heldPorts(): Set<string> {
    return new Set(Object.keys(this.read().ports));
  }
}

function pruneStale(state: LeaseFile): void {
  for (const used of Object.values(state.addresses))
    for (const [addr, lease] of Object.entries(used)) if (!existsSync(lease.netns)) delete used[addr];
  for (const [key, lease] of Object.entries(state.ports)) if (!existsSync(lease.netns)) delete state.ports[key];
}

/** A port on every address clashes with the same port on any one, and the other way round. */
function conflictingPort(state: LeaseFile, p: HostPort): Lease | undefined {
  for (const [key, lease] of Object.entries(state.ports)) {
    const [protocol, ip, port] = key.split('/');
    if (protocol !== p.protocol || Number(port) !== p.hostPort) continue;
    if (ip === '0.0.0.0' || !p.hostIp || p.hostIp === '0.0.0.0' || ip === p.hostIp) return lease;
  }
  return undefined;
}

function nextFree(network: NetworkConfig, used: Record<string, Lease>, last: string | undefined): string {
  const subnet = parseSubnet(network.subnet, network.name);
  /* --ip-range narrows where they are handed out from; never the subnet's own first and last */
  const pool = network.ipRange ? parseSubnet(network.ipRange, network.name) : subnet;
  const gateway = parseAddress(network.gateway);
  const first = Math.max(pool.base, subnet.base + 1);
  const count = Math.min(pool.base + size(pool), subnet.base + size(subnet) - 1) - first;
  const lastN = last === undefined ? undefined : parseAddress(last);
  const start = lastN !== undefined && lastN >= first && lastN < first + count ? lastN - first + 1 : 0;
  for (let i = 0; i < count; i++) {
    const n = first + ((start + i) % count);
    if (n === gateway) continue;
    const text = formatAddress(n);
    if (!used[text]) return text;
  }
  throw new UserError(`network ${network.name}: no free address left in ${network.ipRange ?? network.subnet}`, { kind: 'conflict' });
}

/** The next free address of the network's IPv6 prefix after the last one handed out (its
 * ::1 is the gateway); a look at the first 65536 is plenty for one bridge. */
function nextFree6(network: NetworkConfig, used: Record<string, Lease>, last: string | undefined): string {
  const subnet = parseSubnet6(network.ipv6Subnet ?? '', network.name);
  const first = subnet.base + 2n;
  const span = size6(subnet) - 3n;
  const count = span < 65536n ? span : 65536n;
  const lastN = last === undefined ? undefined : parseAddress6(last);
  const start = lastN !== undefined && lastN >= first && lastN < first + count ? lastN - first + 1n : 0n;
  for (let i = 0n; i < count; i++) {
    const text = formatAddress6(first + ((start + i) % count));
    if (!used[text]) return text;
  }
  throw new UserError(`network ${network.name}: no free address left in ${network.ipv6Subnet}`, { kind: 'conflict' });
}
