import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { UserError, errnoCode } from '../../lib/errors.js';
import type { HostPort } from './leases.js';
import type { NetavarkPortMapping } from './netavark.js';

/** docker's HostConfig.PortBindings: "80/tcp" -> [{HostIp, HostPort}]; HostPort "" is a
 * port the engine picks. */
export type PortBindings = Record<string, { HostIp: string; HostPort: string }[]>;

/** What a container publishes, with every host port known. */
export interface PublishedPort extends HostPort {
  containerPort: number;
}

export function parsePortKey(key: string): { port: number; protocol: 'tcp' | 'udp' } {
  const [port = '', protocol = 'tcp'] = key.split('/');
  const n = Number(port);
  if (!/^\d+$/.test(port) || n < 1 || n > 65535 || (protocol !== 'tcp' && protocol !== 'udp'))
    throw new UserError(`-p ${key}: the container port must be 1-65535, with /tcp or /udp`, { kind: 'invalid', field: 'PortBindings' });
  return { port: n, protocol };
}

/** The bindings with their host ports: a host port given is checked free on the host (a
 * process listening on it would be hidden by the forwarding), an empty one is picked by the
 * kernel among the free ones and not among `held` (ports other containers publish). */
export async function resolvePorts(bindings: PortBindings, held: Set<string>): Promise<PublishedPort[]> {
  const out: PublishedPort[] = [];
  for (const [key, list] of Object.entries(bindings)) {
    const { port, protocol } = parsePortKey(key);
    for (const b of list) {
      const hostIp = b.HostIp === '0.0.0.0' ? '' : b.HostIp;
      const flag = `-p ${hostIp ? `${hostIp}:` : ''}${b.HostPort ? `${b.HostPort}:` : ''}${port}/${protocol}`;
      const range = /^(\d+)-(\d+)$/.exec(b.HostPort);
      if (range) {
        const hostPort = await firstFree(protocol, hostIp, Number(range[1]), Number(range[2]), held, flag);
        out.push({ protocol, hostIp, hostPort, containerPort: port, label: flag });
        continue;
      }
      let hostPort = b.HostPort === '' ? 0 : Number(b.HostPort);
      if (!Number.isInteger(hostPort) || hostPort < 0 || hostPort > 65535)
        throw new UserError(`${flag}: the host port must be 1-65535`, { kind: 'invalid', field: 'PortBindings' });
      if (hostPort === 0) {
        for (let attempt = 0; attempt < 20 && hostPort === 0; attempt++) {
          const picked = await bindOnce(protocol, hostIp, 0, flag);
          if (!isHeld(held, protocol, hostIp, picked)) hostPort = picked;
        }
        if (hostPort === 0) throw new UserError(`${flag}: no free host port found`, { kind: 'conflict', field: 'PortBindings' });
      } else await bindOnce(protocol, hostIp, hostPort, flag);
      out.push({ protocol, hostIp, hostPort, containerPort: port, label: flag });
    }
  }
  return out;
}

/** A port another container publishes on this address, or on every one; on every address,
 * a port published on any one. */
function isHeld(held: Set<string>, protocol: string, hostIp: string, port: number): boolean {
  if (!hostIp || hostIp === '0.0.0.0') return [...held].some((k) => k.startsWith(`${protocol}/`) && k.endsWith(`/${port}`));
  return held.has(`${protocol}/${hostIp}/${port}`) || held.has(`${protocol}/0.0.0.0/${port}`);
}

/** -p HOSTRANGE:CTR: the first port of the range that is free on the host and that no
 * other container publishes, as docker picks it. */
async function firstFree(
  protocol: 'tcp' | 'udp',
  hostIp: string,
  first: number,
  last: number,
  held: Set<string>,
  flag: string,
): Promise<number> {
  if (first < 1 || last > 65535 || last < first)
    throw new UserError(`${flag}: the host port range must be within 1-65535 and end after it starts`, {
      kind: 'invalid',
      field: 'PortBindings',
    });
  for (let port = first; port <= last; port++) {
    if (isHeld(held, protocol, hostIp, port)) continue;
    try {
      return await bindOnce(protocol, hostIp, port, flag);
    } catch (err) {
      if (!(err instanceof UserError) || !/already in use/.test(err.message)) throw err;
    }
  }
  throw new UserError(`${flag}: every host port of ${first}-${last} is in use`, { kind: 'conflict', field: 'PortBindings' });
}

/** -P: every exposed port not published otherwise, on a free host port. */
export function publishAll(bindings: PortBindings, ...exposed: (Record<string, object> | undefined)[]): PortBindings {
  const out = { ...bindings };
  for (const ports of exposed)
    for (const key of Object.keys(ports ?? {})) {
      const full = key.includes('/') ? key : `${key}/tcp`;
      if (!out[full]) out[full] = [{ HostIp: '', HostPort: '' }];
    }
  return out;
}

/** netavark's mappings: consecutive ports (a range of -p) become one mapping with its
 * `range`, one set of forwarding rules rather than one per port. */
export function netavarkPorts(ports: PublishedPort[]): NetavarkPortMapping[] {
  const sorted = [...ports].sort(
    (a, b) => a.protocol.localeCompare(b.protocol) || a.hostIp.localeCompare(b.hostIp) || a.containerPort - b.containerPort,
  );
  const out: NetavarkPortMapping[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (
      last &&
      last.protocol === p.protocol &&
      last.host_ip === p.hostIp &&
      p.containerPort === last.container_port + last.range &&
      p.hostPort === last.host_port + last.range
    )
      last.range++;
    else out.push({ host_ip: p.hostIp, container_port: p.containerPort, host_port: p.hostPort, range: 1, protocol: p.protocol });
  }
  return out;
}

/** Binds the port and lets it go at once: the port it got. */
function bindOnce(protocol: 'tcp' | 'udp', hostIp: string, port: number, flag: string): Promise<number> {
  const fail = (e: unknown) => {
    const code = errnoCode(e);
    const why =
      code === 'EADDRINUSE'
        ? 'the host port is already in use'
        : code === 'EADDRNOTAVAIL'
          ? `${hostIp} is no address of this host`
          : (e as Error).message;
    return new UserError(`${flag}: ${why}`, { kind: 'conflict', field: 'PortBindings' });
  };
  return new Promise((resolve, reject) => {
    if (protocol === 'udp') {
      const socket = createSocket('udp4');
      socket.once('error', (e) => {
        socket.close();
        reject(fail(e));
      });
      socket.bind({ port, address: hostIp || '0.0.0.0', exclusive: true }, () => {
        const got = socket.address().port;
        socket.close(() => resolve(got));
      });
      return;
    }
    const server = createServer();
    server.once('error', (e) => reject(fail(e)));
    server.listen({ port, host: hostIp || '0.0.0.0', exclusive: true }, () => {
      const address = server.address();
      const got = typeof address === 'object' && address ? address.port : port;
      server.close(() => resolve(got));
    });
  });
}
