import { UsageError } from '../lib/errors.js';
import type { Engine } from '../condenser/engine.js';
import type { ContainerRecord } from '../condenser/containers/record.js';
import { familiarName } from '../condenser/images/names.js';
import { emptyNetworkSettings } from '../condenser/network/settings.js';
import { parseOptions, splitAtPositional } from './container-flags.js';
import { err, out, table, timeAgo } from './output.js';

const LIST_OPTIONS = {
  all: { type: 'boolean', short: 'a' },
  quiet: { type: 'boolean', short: 'q' },
  filter: { type: 'string', short: 'f', multiple: true },
  format: { type: 'string' },
  'no-trunc': { type: 'boolean' },
  latest: { type: 'boolean', short: 'l' },
} as const;

/** ps [-a] [-q] [--filter K=V]... [--format table|json] [--no-trunc] [-l] */
export function containerList(engine: Engine, argv: string[]): number {
  const split = splitAtPositional(argv, LIST_OPTIONS);
  if (split.rest.length) throw new UsageError(`ps: unexpected argument "${split.rest[0]}"`);
  const values = parseOptions('ps', split.options, LIST_OPTIONS);
  const format = (values.format as string | undefined) ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError(`ps: --format must be table or json, not "${format}"`);
  const filters = ((values.filter as string[] | undefined) ?? []).map(parseFilter);
  let records = engine.containers.list().filter((c) => values.all || values.latest || c.State.Running || hasStatusFilter(filters));
  records = records.filter((c) => filters.every((f) => f(c)));
  records.reverse();
  if (values.latest) records = records.slice(0, 1);
  if (values.quiet) {
    out(records.map((c) => `${c.Id}\n`).join(''));
    return 0;
  }
  if (format === 'json') {
    out(`${JSON.stringify(records.map(summary))}\n`);
    return 0;
  }
  const trunc = values['no-trunc'] !== true;
  out(
    table(
      ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
      records.map((c) => {
        const command = [c.Path, ...c.Args].join(' ');
        return [
          c.Id,
          familiarName(c.ImageName),
          `"${trunc && command.length > 20 ? `${command.slice(0, 19)}…` : command}"`,
          timeAgo(c.Created),
          statusText(c),
          portsText(c),
          c.Name,
        ];
      }),
    ),
  );
  return 0;
}

/** docker's STATUS column: "Up 5 seconds", "Exited (0) 3 seconds ago", "Created". */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.State;
  if (s.Status === 'running') return `Up ${since(s.StartedAt, now)}`;
  if (s.Status === 'paused') return `Up ${since(s.StartedAt, now)} (Paused)`;
  if (s.Status === 'exited') return `Exited (${s.ExitCode}) ${timeAgo(s.FinishedAt, now)}`;
  return s.Status[0]?.toUpperCase() + s.Status.slice(1);
}

function since(iso: string, now: number): string {
  return timeAgo(iso, now).replace(/ ago$/, '');
}

/** What `ps --format json` prints per container, in docker's names. */
function summary(c: ContainerRecord) {
  return {
    ID: c.Id,
    Names: c.Name,
    Image: familiarName(c.ImageName),
    ImageID: c.Image,
    Command: [c.Path, ...c.Args].join(' '),
    CreatedAt: c.Created,
    State: c.State.Status,
    Status: statusText(c),
    ExitCode: c.State.ExitCode,
    Pid: c.State.Pid,
    Labels: c.Config.Labels,
    Mounts: c.Mounts.map((m) => m.Name ?? m.Source),
    Ports: portsText(c),
  };
}

/** docker's PORTS column: "127.0.0.1:8080->80/tcp, 0.0.0.0:40001->53/udp". */
export function portsText(c: ContainerRecord): string {
  return Object.entries(c.NetworkSettings?.Ports ?? {})
    .flatMap(([port, bindings]) => (bindings ?? []).map((b) => `${b.HostIp || '0.0.0.0'}:${b.HostPort}->${port}`))
    .join(', ');
}

type Filter = ((c: ContainerRecord) => boolean) & { status?: boolean };

function hasStatusFilter(filters: Filter[]): boolean {
  return filters.some((f) => f.status);
}

/** docker's ps filters: id, name, label, status, exited, ancestor. */
function parseFilter(text: string): Filter {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`ps: --filter must be KEY=VALUE, not "${text}"`);
  const key = text.slice(0, eq);
  const value = text.slice(eq + 1);
  switch (key) {
    case 'id':
      return (c) => c.Id.startsWith(value);
    case 'name':
      return (c) => c.Name.includes(value.replace(/^\//, ''));
    case 'label': {
      const [k = '', v] = value.split('=', 2);
      return (c) => Object.hasOwn(c.Config.Labels, k) && (v === undefined || c.Config.Labels[k] === v);
    }
    case 'status': {
      const statuses = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
      if (!statuses.includes(value)) throw new UsageError(`ps: --filter status must be one of ${statuses.join(', ')}, not "${value}"`);
      const f: Filter = (c) => c.State.Status === value;
      f.status = true;
      return f;
    }
    case 'exited': {
      if (!/^\d+$/.test(value)) throw new UsageError(`ps: --filter exited needs an exit code, not "${value}"`);
      const f: Filter = (c) => c.State.Status === 'exited' && c.State.ExitCode === Number(value);
      f.status = true;
      return f;
    }
    case 'ancestor':
      return (c) => c.ImageName === value || familiarName(c.ImageName) === value || c.Image.includes(value);
    default:
      throw new UsageError(`ps: unknown filter "${key}" (id, name, label, status, exited, ancestor)`);
  }
}

/** inspect NAME...: a container's JSON, or an image's when no container has the name, as
 * docker's top-level inspect does. */
export async function anyInspect(engine: Engine, argv: string[]): Promise<number> {
  const names = argv.filter((a) => !a.startsWith('-'));
  const allContainers =
    names.length > 0 &&
    names.every((n) => {
      try {
        engine.containers.resolve(n);
        return true;
      } catch {
        return false;
      }
    });
  if (allContainers) return containerInspect(engine, argv);
  const { imageInspect } = await import('./image.js');
  return imageInspect(engine, argv);
}

/** inspect CONTAINER...: docker's JSON, an array. */
export function containerInspect(engine: Engine, argv: string[]): number {
  const options = { format: { type: 'string', short: 'f' }, size: { type: 'boolean', short: 's' } } as const;
  const split = splitAtPositional(argv, options);
  parseOptions('inspect', split.options, options);
  if (split.rest.length === 0) throw new UsageError('inspect: expected at least one container');
  const found: object[] = [];
  let failed = false;
  for (const name of split.rest) {
    try {
      found.push(inspectView(engine.containers.inspect(name)));
    } catch (e) {
      err(`raind inspect: ${(e as Error).message}\n`);
      failed = true;
    }
  }
  out(`${JSON.stringify(found, null, 4)}\n`);
  return failed ? 1 : 0;
}

/** The record as docker shows it: the engine's own fields left out, a leading "/" on the name. */
export function inspectView(c: ContainerRecord): object {
  const {
    Layers,
    Monitor,
    InitStartTime,
    StoppedByUser,
    ImageName,
    AnonymousVolumes,
    NetworkAliases,
    NetworkIP,
    ConnectedNetworks,
    NetworkModeDisconnected,
    ...shown
  } = c;
  return {
    ...shown,
    Name: `/${c.Name}`,
    Config: { ...c.Config, Image: ImageName },
    NetworkSettings: c.NetworkSettings ?? stoppedNetworkSettings(ConnectedNetworks ?? {}),
  };
}

/** A container that is not running shows the networks it was connected to, without addresses. */
function stoppedNetworkSettings(connected: NonNullable<ContainerRecord['ConnectedNetworks']>) {
  const settings = emptyNetworkSettings();
  for (const [name, c] of Object.entries(connected))
    settings.Networks[name] = { NetworkID: c.NetworkID, Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '', Aliases: c.Aliases };
  return settings;
}
