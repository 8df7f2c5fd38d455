import { UsageError } from '../lib/errors.js';
import type { Engine } from '../condenser/engine.js';
import { out } from './output.js';

/** port CONTAINER [PRIVATE_PORT[/PROTO]]: the published ports, as docker prints them
 * (`80/tcp -> 127.0.0.1:18080`); with a port, only its host addresses. */
export function containerPort(engine: Engine, argv: string[]): number {
  const [name, wanted, ...extra] = argv;
  if (name === undefined || extra.length) throw new UsageError('port: expected a container and at most one port');
  const record = engine.containers.inspect(name);
  const ports = record.NetworkSettings?.Ports ?? {};
  const key = wanted === undefined ? undefined : wanted.includes('/') ? wanted : `${wanted}/tcp`;
  if (key !== undefined && !/^\d+\/(tcp|udp)$/.test(key)) throw new UsageError(`port: "${wanted}" is not a port such as 80 or 53/udp`);
  const lines: string[] = [];
  for (const [port, bindings] of Object.entries(ports)) {
    if (key !== undefined && port !== key) continue;
    for (const b of bindings ?? []) {
      const address = `${b.HostIp || '0.0.0.0'}:${b.HostPort}`;
      lines.push(key === undefined ? `${port} -> ${address}` : address);
    }
  }
  if (key !== undefined && lines.length === 0) throw new UsageError(`port: no public port ${key} published for ${record.Name}`);
  out(lines.map((l) => `${l}\n`).join(''));
  return 0;
}
