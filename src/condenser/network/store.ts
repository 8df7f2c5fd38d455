import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { NotFoundError, UserError, errnoCode, reason } from '../../lib/errors.js';
import { withLock } from '../../lib/lock.js';
import { DEFAULT_ALIASES, type NetworkConfig, SPECIAL_MODES, defaultNetwork } from './config.js';
import { type Subnet6, contains6, formatAddress6, formatSubnet6, overlaps6, parseAddress6, parseSubnet6 } from './ipv6.js';
import { contains, formatAddress, formatSubnet, overlaps, parseAddress, parseSubnet, type Subnet } from './ipv4.js';

export interface CreateNetworkOptions {
  name: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  /** --ipv6 with an IPv6 --subnet */
  ipv6?: boolean;
  ipv6Subnet?: string;
  internal?: boolean;
  labels?: Record<string, string>;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The networks of a root, `<root>/networks/<name>.json`, and the default one. Changes
 * are made holding the lock of that directory. */
export class NetworkStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'networks');
  }

  list(): NetworkConfig[] {
    const stored: NetworkConfig[] = [];
    let files: string[] = [];
    try {
      files = readdirSync(this.dir).filter((f) => f.endsWith('.json'));
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw new UserError(`read ${this.dir}: ${reason(err)}`);
    }
    for (const f of files.sort()) {
      const config = this.readFile(join(this.dir, f));
      if (config) stored.push(config);
    }
    return [defaultNetwork(), ...stored];
  }

  /** A network by name, by docker's name of the default one, by id or a unique prefix of it. */
  get(text: string): NetworkConfig {
    if (DEFAULT_ALIASES.includes(text)) return defaultNetwork();
    const all = this.list();
    const byName = all.find((n) => n.name === text);
    if (byName) return byName;
    const byId = text.length >= 3 && /^[0-9a-f]+$/.test(text) ? all.filter((n) => n.id.startsWith(text)) : [];
    if (byId.length === 1 && byId[0]) return byId[0];
    if (byId.length > 1) throw new UserError(`network ${text}: the id prefix matches several networks`, { kind: 'invalid' });
    throw new NotFoundError(`network ${text} does not exist (raind network ls lists them)`);
  }

  create(opts: CreateNetworkOptions): NetworkConfig {
    const { name } = opts;
    if (!NAME.test(name) || name.length > 64)
      throw new UserError(`network create: the name "${name}" must be letters, digits, "_", "." or "-", starting with a letter or digit`, {
        kind: 'invalid',
      });
    if (DEFAULT_ALIASES.includes(name) || SPECIAL_MODES.includes(name))
      throw new UserError(`network create: "${name}" is a reserved name`, { kind: 'conflict' });
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    return withLock(this.dir, 'the networks', () => {
      const existing = this.list();
      if (existing.some((n) => n.name === name)) throw new UserError(`network ${name} already exists`, { kind: 'conflict' });
      if (opts.gateway && !opts.subnet) throw new UserError('--gateway needs --subnet', { kind: 'invalid' });
      const taken = [...existing.map((n) => parseSubnet(n.subnet, n.name)), ...hostSubnets()];
      const subnet = opts.subnet ? parseSubnet(opts.subnet, '--subnet') : freeSubnet(taken);
      const clash = existing.find((n) => overlaps(parseSubnet(n.subnet, n.name), subnet));
      if (clash)
        throw new UserError(`--subnet ${formatSubnet(subnet)} overlaps network ${clash.name} (${clash.subnet})`, { kind: 'conflict' });
      const gateway = opts.gateway ?? formatAddress(subnet.base + 1);
      const gw = parseAddress(gateway);
      if (gw === undefined || !contains(subnet, gw) || gw === subnet.base || gw === subnet.base + 2 ** (32 - subnet.prefix) - 1)
        throw new UserError(`--gateway ${gateway}: not a host address of ${formatSubnet(subnet)}`, { kind: 'invalid' });
      const v6 = ipv6Subnet(opts, existing);
      const ipRange = opts.ipRange === undefined ? undefined : checkRange(opts.ipRange, subnet, opts.subnet !== undefined);
      const config: NetworkConfig = {
        name,
        id: randomBytes(32).toString('hex'),
        driver: 'bridge',
        bridge: freeBridge(existing),
        subnet: formatSubnet(subnet),
        gateway,
        ...(ipRange ? { ipRange } : {}),
        ...(v6 ? { ipv6Subnet: formatSubnet6(v6), ipv6Gateway: formatAddress6(v6.base + 1n) } : {}),
        internal: opts.internal === true,
        labels: opts.labels ?? {},
        created: new Date().toISOString(),
      };
      writeFileAtomic(this.path(name), `${JSON.stringify(config, null, 2)}\n`);
      return config;
    });
  }

  /** Removes a user network; `inUse` names the containers on it, checked under the lock. */
  remove(text: string, inUse: (network: NetworkConfig) => string[]): NetworkConfig {
    const network = this.get(text);
    if (network.name === defaultNetwork().name)
      throw new UserError(`network ${network.name} is the default network: it cannot be removed`, { kind: 'conflict' });
    return withLock(this.dir, 'the networks', () => {
      const users = inUse(network);
      if (users.length)
        throw new UserError(
          `network ${network.name} is in use by container${users.length > 1 ? 's' : ''} ${users.join(', ')}: remove ${users.length > 1 ? 'them' : 'it'} or disconnect ${users.length > 1 ? 'them' : 'it'} first`,
          { kind: 'conflict' },
        );
      rmSync(this.path(network.name), { force: true });
      return network;
    });
  }

  private path(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  private readFile(path: string): NetworkConfig | undefined {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as NetworkConfig;
    } catch {
      /* a half-written file of a killed create is no network */
      return undefined;
    }
  }
}

/** --ip: a host address of the network's subnet, other than its gateway. */
export function checkAddress(network: NetworkConfig, text: string): void {
  const subnet = parseSubnet(network.subnet, network.name);
  const n = parseAddress(text);
  const bad = (why: string) => new UserError(`--ip ${text}: ${why}`, { kind: 'invalid', field: 'NetworkingConfig' });
  if (n === undefined) throw bad('not an IPv4 address');
  if (!contains(subnet, n) || n === subnet.base || n === subnet.base + 2 ** (32 - subnet.prefix) - 1)
    throw bad(`not a host address of network ${network.name} (${network.subnet})`);
  if (text === network.gateway) throw bad(`is the gateway of network ${network.name}`);
}

/** --ipv6's prefix: given with --subnet, overlapping no other network's nor the host's. */
function ipv6Subnet(opts: CreateNetworkOptions, existing: NetworkConfig[]): Subnet6 | undefined {
  if (opts.ipv6Subnet && !opts.ipv6) throw new UserError(`--subnet ${opts.ipv6Subnet}: an IPv6 subnet needs --ipv6`, { kind: 'invalid' });
  if (!opts.ipv6) return undefined;
  if (!opts.ipv6Subnet) throw new UserError('--ipv6 needs an IPv6 --subnet, such as fd00:1::/64', { kind: 'invalid' });
  const subnet = parseSubnet6(opts.ipv6Subnet, '--subnet');
  const clash = existing.find((n) => n.ipv6Subnet && overlaps6(parseSubnet6(n.ipv6Subnet, n.name), subnet));
  if (clash)
    throw new UserError(`--subnet ${formatSubnet6(subnet)} overlaps network ${clash.name} (${clash.ipv6Subnet})`, { kind: 'conflict' });
  for (const [name, addrs] of Object.entries(networkInterfaces()))
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv6' || !a.cidr) continue;
      const n = parseAddress6(a.address);
      if (n !== undefined && contains6(subnet, n))
        throw new UserError(`--subnet ${formatSubnet6(subnet)} holds ${a.address} of the host's ${name}`, { kind: 'conflict' });
    }
  return subnet;
}

/** --ip-range: a part of the subnet with room for one address that is not the gateway. */
function checkRange(text: string, subnet: Subnet, subnetGiven: boolean): string {
  if (!subnetGiven) throw new UserError('--ip-range needs --subnet', { kind: 'invalid' });
  const range = parseSubnet(text, '--ip-range');
  if (!contains(subnet, range.base) || range.prefix < subnet.prefix)
    throw new UserError(`--ip-range ${text}: not inside --subnet ${formatSubnet(subnet)}`, { kind: 'invalid' });
  return formatSubnet(range);
}

/** The subnets of the host's interfaces: a new network must not hide them. */
function hostSubnets(): Subnet[] {
  const out: Subnet[] = [];
  for (const addrs of Object.values(networkInterfaces()))
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4' || !a.cidr) continue;
      const [ip = '', bits = '32'] = a.cidr.split('/');
      const n = parseAddress(ip);
      const prefix = Number(bits);
      if (n === undefined) continue;
      const block = 2 ** (32 - prefix);
      out.push({ base: n - (n % block), prefix });
    }
  return out;
}

/** The first 10.167.N.0/24 that overlaps nothing taken. */
function freeSubnet(taken: Subnet[]): Subnet {
  for (let n = 0; n < 256; n++) {
    const candidate = { base: parseAddress(`10.167.${n}.0`) ?? 0, prefix: 24 };
    if (!taken.some((t) => overlaps(t, candidate))) return candidate;
  }
  throw new UserError('network create: no free subnet left in 10.167.0.0/16: give one with --subnet', { kind: 'conflict' });
}

/** raindN: the first not used by a network of this root nor present on the host. */
function freeBridge(existing: NetworkConfig[]): string {
  for (let n = 1; ; n++) {
    const name = `raind${n}`;
    if (!existing.some((e) => e.bridge === name) && !existsSync(`/sys/class/net/${name}`)) return name;
  }
}
