import { UsageError, UserError } from '../lib/errors.js';
import { networkView } from '../condenser/api/views/network.js';
import type { Engine, NetworkConfig } from '../condenser/engine.js';
import { parseOptions, splitAtPositional } from './container-flags.js';
import { err, out, table } from './output.js';

/** network create [--subnet CIDR]... [--gateway IP] [--ip-range CIDR] [--ipv6] [--internal] [--label K=V]... NAME */
export function networkCreate(engine: Engine, argv: string[]): number {
  const options = {
    subnet: { type: 'string', multiple: true },
    gateway: { type: 'string' },
    'ip-range': { type: 'string' },
    internal: { type: 'boolean' },
    ipv6: { type: 'boolean' },
    label: { type: 'string', multiple: true },
    driver: { type: 'string', short: 'd' },
  } as const;
  const split = splitAtPositional(argv, options);
  const values = parseOptions('network create', split.options, options);
  if (split.rest.length !== 1) throw new UsageError('network create: expected one network name');
  const driver = values.driver as string | undefined;
  if (driver !== undefined && driver !== 'bridge') throw new UsageError(`network create: --driver must be bridge, not "${driver}"`);
  const labels: Record<string, string> = {};
  for (const l of (values.label as string[] | undefined) ?? []) {
    const eq = l.indexOf('=');
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  /* one IPv4 and one IPv6 subnet, as docker takes them */
  const subnets = (values.subnet as string[] | undefined) ?? [];
  const v4 = subnets.filter((s) => !s.includes(':'));
  const v6 = subnets.filter((s) => s.includes(':'));
  if (v4.length > 1 || v6.length > 1) throw new UsageError('network create: --subnet at most once for IPv4 and once for IPv6');
  const network = engine.createNetwork({
    name: split.rest[0] ?? '',
    ...(v4[0] !== undefined ? { subnet: v4[0] } : {}),
    ...(v6[0] !== undefined ? { ipv6Subnet: v6[0] } : {}),
    ipv6: values.ipv6 === true,
    ...(values.gateway !== undefined ? { gateway: values.gateway as string } : {}),
    ...(values['ip-range'] !== undefined ? { ipRange: values['ip-range'] as string } : {}),
    internal: values.internal === true,
    labels,
  });
  out(`${network.id}\n`);
  return 0;
}

/** network ls [-q] [--format table|json] */
export function networkList(engine: Engine, argv: string[]): number {
  const options = { quiet: { type: 'boolean', short: 'q' }, format: { type: 'string' }, 'no-trunc': { type: 'boolean' } } as const;
  const split = splitAtPositional(argv, options);
  if (split.rest.length) throw new UsageError(`network ls: unexpected argument "${split.rest[0]}"`);
  const values = parseOptions('network ls', split.options, options);
  const format = (values.format as string | undefined) ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError(`network ls: --format must be table or json, not "${format}"`);
  const networks = engine.listNetworks();
  const id = (n: NetworkConfig) => (values['no-trunc'] ? n.id : n.id.slice(0, 12));
  if (values.quiet) out(networks.map((n) => `${id(n)}\n`).join(''));
  else if (format === 'json')
    out(
      `${JSON.stringify(networks.map((n) => ({ ID: id(n), Name: n.name, Driver: n.driver, Scope: 'local', Internal: n.internal, Labels: n.labels, CreatedAt: n.created })))}\n`,
    );
  else
    out(
      table(
        ['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'],
        networks.map((n) => [id(n), n.name, n.driver, 'local']),
      ),
    );
  return 0;
}

/** network inspect NAME...: docker's JSON, an array. */
export function networkInspect(engine: Engine, argv: string[]): number {
  const options = { format: { type: 'string', short: 'f' } } as const;
  const split = splitAtPositional(argv, options);
  parseOptions('network inspect', split.options, options);
  if (split.rest.length === 0) throw new UsageError('network inspect: expected at least one network');
  const found: object[] = [];
  let failed = false;
  for (const name of split.rest) {
    try {
      const { network, containers } = engine.inspectNetwork(name);
      found.push(networkView(network, containers, true));
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      err(`raind network inspect: ${e.message}\n`);
      failed = true;
    }
  }
  out(`${JSON.stringify(found, null, 4)}\n`);
  return failed ? 1 : 0;
}

/** network rm NAME...: refused while a container is on it. */
export function networkRemove(engine: Engine, argv: string[]): number {
  if (argv.length === 0) throw new UsageError('network rm: expected at least one network');
  let failed = false;
  for (const name of argv) {
    try {
      out(`${engine.removeNetwork(name).name}\n`);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      err(`raind network rm: ${e.message}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

/** docker's CLI exits 125 when the engine refuses a network connect or disconnect. */
function engineFailure(e: unknown): unknown {
  return e instanceof UserError && !(e instanceof UsageError)
    ? new UserError(e.message, { kind: e.kind, ...(e.field !== undefined ? { field: e.field } : {}), exitCode: 125 })
    : e;
}

/** network connect [--alias A]... [--ip IP] NETWORK CONTAINER */
export async function networkConnect(engine: Engine, argv: string[]): Promise<number> {
  const options = { alias: { type: 'string', multiple: true }, ip: { type: 'string' } } as const;
  const split = splitAtPositional(argv, options);
  const values = parseOptions('network connect', split.options, options);
  const [network, container, ...extra] = split.rest;
  if (network === undefined || container === undefined || extra.length)
    throw new UsageError('network connect: expected a network and a container');
  try {
    await engine.containers.connectNetwork(container, network, {
      aliases: (values.alias as string[] | undefined) ?? [],
      ...(values.ip !== undefined ? { ip: values.ip as string } : {}),
    });
  } catch (e) {
    throw engineFailure(e);
  }
  return 0;
}

/** network disconnect [-f] NETWORK CONTAINER */
export async function networkDisconnect(engine: Engine, argv: string[]): Promise<number> {
  const options = { force: { type: 'boolean', short: 'f' } } as const;
  const split = splitAtPositional(argv, options);
  const values = parseOptions('network disconnect', split.options, options);
  const [network, container, ...extra] = split.rest;
  if (network === undefined || container === undefined || extra.length)
    throw new UsageError('network disconnect: expected a network and a container');
  try {
    await engine.containers.disconnectNetwork(container, network, values.force === true);
  } catch (e) {
    throw engineFailure(e);
  }
  return 0;
}

/** network prune: the user networks no container is on. */
export function networkPrune(engine: Engine, argv: string[]): number {
  const options = { force: { type: 'boolean', short: 'f' } } as const;
  parseOptions('network prune', splitAtPositional(argv, options).options, options);
  const removed = engine.pruneNetworks();
  if (removed.length) out(`Deleted Networks:\n${removed.map((n) => `${n}\n`).join('')}`);
  return 0;
}
