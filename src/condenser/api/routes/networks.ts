import { UserError } from '../../../lib/errors.js';
import { DEFAULT_ALIASES, DEFAULT_NETWORK, type NetworkConfig } from '../../network/config.js';
import type { CreateNetworkOptions } from '../../network/store.js';
import { ApiError, readJson, sendJson, sendNoContent } from '../http-io.js';
import { type ApiRequest, queryFilters } from '../request.js';
import type { Router } from '../router.js';
import { networkView } from '../views/network.js';
import { labelFilter, optional, stringMap } from './body-fields.js';

/** The network endpoints: list, inspect, create, remove, prune. */
export function networkRoutes(router: Router): void {
  router.get('/networks', listNetworks);
  router.get('/networks/{id}', (r) => {
    const { network, containers } = r.engine.inspectNetwork(r.params.id ?? '');
    sendJson(r.res, 200, networkView(network, containers));
  });
  router.post('/networks/create', createNetwork);
  router.delete('/networks/{id}', (r) => {
    r.engine.removeNetwork(r.params.id ?? '');
    sendNoContent(r.res);
  });
  router.post('/networks/{id}/connect', connectContainer);
  router.post('/networks/{id}/disconnect', disconnectContainer);
  router.post('/networks/prune', (r) => {
    /* of docker's prune filters, label; until is refused */
    const filters = queryFilters(r);
    const keep = networkFilters(filters, ['label']);
    const names = r.engine
      .listNetworks()
      .slice(1)
      .filter((n) => keep(n))
      .map((n) => n.name);
    const removed: string[] = [];
    for (const name of names) {
      try {
        removed.push(r.engine.removeNetwork(name).name);
      } catch (err) {
        /* in use: it stays, as docker's prune leaves it */
        if (!(err instanceof UserError) || err.kind !== 'conflict') throw err;
      }
    }
    sendJson(r.res, 200, { NetworksDeleted: removed });
  });
}

function listNetworks(r: ApiRequest): void {
  const keep = networkFilters(queryFilters(r), ['name', 'id', 'label', 'driver', 'type', 'scope', 'dangling']);
  /* the containers of each network, as docker's list shows them (compose reads them) */
  const all = r.engine.listNetworks().map((n) => ({ n, containers: r.engine.inspectNetwork(n.id).containers }));
  sendJson(
    r.res,
    200,
    all.filter(({ n, containers }) => keep(n, containers.length > 0)).map(({ n, containers }) => networkView(n, containers)),
  );
}

/** docker's network filters: each key's values are alternatives, the keys all hold. */
function networkFilters(filters: Record<string, string[]>, allowed: string[]): (n: NetworkConfig, used?: boolean) => boolean {
  type Test = (n: NetworkConfig, used: boolean) => boolean;
  const tests: Test[] = [];
  for (const [key, values] of Object.entries(filters)) {
    if (!allowed.includes(key)) throw new ApiError(400, `invalid filter '${key}' (${allowed.join(', ')})`);
    const one = (value: string): Test => {
      switch (key) {
        case 'name':
          /* docker's default network is "bridge" to its clients */
          return (n) => n.name.includes(value) || (n.name === DEFAULT_NETWORK && DEFAULT_ALIASES.some((a) => a.includes(value)));
        case 'id':
          return (n) => n.id.startsWith(value);
        case 'label':
          return (n) => labelFilter(value)(n.labels);
        case 'driver':
          return (n) => n.driver === value;
        case 'scope':
          return () => value === 'local';
        case 'type':
          if (value !== 'custom' && value !== 'builtin') throw new ApiError(400, `invalid filter 'type=${value}' (custom or builtin)`);
          return (n) => (n.name === DEFAULT_NETWORK) === (value === 'builtin');
        case 'dangling': {
          if (!['true', 'false', '1', '0'].includes(value)) throw new ApiError(400, `invalid filter 'dangling=${value}' (true or false)`);
          /* docker: a dangling network is a user network no container is on */
          const dangling = value === 'true' || value === '1';
          return (n, used) => (n.name !== DEFAULT_NETWORK && !used) === dangling;
        }
        default:
          return () => false;
      }
    };
    const alternatives = values.map(one);
    /* docker: the values of a key are alternatives, but labels must all be there */
    tests.push((n, used) => (key === 'label' ? alternatives.every((t) => t(n, used)) : alternatives.some((t) => t(n, used))));
  }
  return (n, used = false) => tests.every((t) => t(n, used));
}

interface IpamConfig {
  Subnet?: string;
  Gateway?: string;
  IPRange?: string;
  AuxiliaryAddresses?: object;
}

/** POST /networks/create: docker's body as the engine's network. */
async function createNetwork(r: ApiRequest): Promise<void> {
  const body = await readJson<Record<string, unknown>>(r.req);
  const name = optional(body, 'Name', 'string');
  if (!name) throw new ApiError(400, 'Name: the network needs a name');
  const driver = optional(body, 'Driver', 'string');
  if (driver && driver !== 'bridge') throw new ApiError(400, `Driver: only bridge networks are available, not "${driver}"`);
  const ipv6 = optional(body, 'EnableIPv6', 'boolean') === true;
  const options: CreateNetworkOptions = {
    name,
    internal: optional(body, 'Internal', 'boolean') === true,
    labels: stringMap(body, 'Labels'),
  };
  /* driver options (the bridge's name, its MTU...) are the engine's to choose here: one
   * ignored would show as changed to compose, which compares them */
  const driverOptions = stringMap(body, 'Options');
  if (Object.keys(driverOptions).length)
    throw new ApiError(400, `Options: driver options are not available (${Object.keys(driverOptions).join(', ')})`);
  optional(body, 'CheckDuplicate', 'boolean');
  optional(body, 'Attachable', 'boolean');
  const ipam = optional(body, 'IPAM', 'object') as Record<string, unknown> | undefined;
  if (ipam) {
    const ipamDriver = optional(ipam, 'Driver', 'string', 'IPAM.');
    if (ipamDriver && ipamDriver !== 'default')
      throw new ApiError(400, `IPAM.Driver: only the default IPAM driver is available, not "${ipamDriver}"`);
    const configs = ipam.Config ?? [];
    if (!Array.isArray(configs)) throw new ApiError(400, 'IPAM.Config: must be a list');
    if (configs.length > 2) throw new ApiError(400, 'IPAM.Config: a network has one IPv4 and one IPv6 subnet at most');
    configs.forEach((config: IpamConfig | null, i: number) => {
      const where = `IPAM.Config[${i}].`;
      if (config === null || typeof config !== 'object') throw new ApiError(400, `IPAM.Config[${i}]: must be an object`);
      const subnet = optional(config as Record<string, unknown>, 'Subnet', 'string', where);
      const gateway = optional(config as Record<string, unknown>, 'Gateway', 'string', where);
      const range = optional(config as Record<string, unknown>, 'IPRange', 'string', where);
      if (subnet?.includes(':')) {
        /* the engine picks an IPv6 network's gateway (the prefix's ::1) and hands out the whole prefix */
        if (gateway || range) throw new ApiError(400, `${where}Gateway, IPRange: an IPv6 subnet takes neither here`);
        options.ipv6Subnet = subnet;
        return;
      }
      if (subnet) options.subnet = subnet;
      if (gateway) options.gateway = gateway;
      if (range && range !== subnet) options.ipRange = range;
    });
  }
  if (ipv6) options.ipv6 = true;
  /* docker's 409 for a name taken, whatever CheckDuplicate says: names are unique here */
  if (r.engine.listNetworks().some((n) => n.name === name) || DEFAULT_ALIASES.includes(name))
    throw new ApiError(409, `network with name ${name} already exists`);
  const network = r.engine.createNetwork(options);
  r.target = network.name;
  sendJson(r.res, 201, { Id: network.id, Warning: '' });
}

/** POST /networks/{id}/connect: {Container, EndpointConfig: {Aliases, IPAMConfig: {IPv4Address}}}. */
async function connectContainer(r: ApiRequest): Promise<void> {
  const body = await readJson<Record<string, unknown>>(r.req);
  const container = optional(body, 'Container', 'string');
  if (!container) throw new ApiError(400, 'Container: the body names no container');
  const endpoint = (optional(body, 'EndpointConfig', 'object') ?? {}) as Record<string, unknown>;
  const aliases = endpoint.Aliases ?? [];
  if (!Array.isArray(aliases) || aliases.some((a) => typeof a !== 'string'))
    throw new ApiError(400, 'EndpointConfig.Aliases: must be a list of strings');
  const ipam = (optional(endpoint, 'IPAMConfig', 'object', 'EndpointConfig.') ?? {}) as Record<string, unknown>;
  const ip = optional(ipam, 'IPv4Address', 'string', 'EndpointConfig.IPAMConfig.');
  r.target = `${r.params.id} ${container}`;
  await r.engine.containers.connectNetwork(container, r.params.id ?? '', { aliases: aliases as string[], ...(ip ? { ip } : {}) });
  sendNoContent(r.res, 200);
}

/** POST /networks/{id}/disconnect: {Container, Force}. */
async function disconnectContainer(r: ApiRequest): Promise<void> {
  const body = await readJson<Record<string, unknown>>(r.req);
  const container = optional(body, 'Container', 'string');
  if (!container) throw new ApiError(400, 'Container: the body names no container');
  r.target = `${r.params.id} ${container}`;
  await r.engine.containers.disconnectNetwork(container, r.params.id ?? '', optional(body, 'Force', 'boolean') === true);
  sendNoContent(r.res, 200);
}
