import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError, UserError } from '../lib/errors.js';
import type { Engine, VolumeInspect } from '../condenser/engine.js';
import { err, humanSize, out, table } from './output.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags anywhere among the names, as docker's volume commands take them. */
function parse<T extends Options>(cmd: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, strict: true as const, allowPositionals: true as const });
  } catch (e) {
    throw new UsageError(`volume ${cmd}: ${(e as Error).message}`);
  }
}

/** volume create [--label K=V]... [NAME]: prints the volume's name. */
export function volumeCreate(engine: Engine, argv: string[]): number {
  const { values, positionals } = parse('create', argv, {
    label: { type: 'string', short: 'l', multiple: true },
    driver: { type: 'string', short: 'd' },
    name: { type: 'string' },
  });
  if (values.driver !== undefined && values.driver !== 'local')
    throw new UsageError(`volume create: --driver "${values.driver}" is not available (local)`);
  if (positionals.length > 1) throw new UsageError('volume create: takes at most one name');
  if (values.name !== undefined && positionals.length === 1 && positionals[0] !== values.name)
    throw new UsageError(`volume create: two names given ("${values.name}" and "${positionals[0]}")`);
  const labels: Record<string, string> = {};
  for (const l of values.label ?? []) {
    const eq = l.indexOf('=');
    if (eq === 0) throw new UsageError(`volume create: --label "${l}": the key is empty`);
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  const volume = engine.volumes.create(values.name ?? positionals[0], { labels });
  out(`${volume.Name}\n`);
  return 0;
}

type VolumeFilter = (v: VolumeInspect, used: boolean) => boolean;

/** docker's volume filters: name (a part of it), label (K or K=V), dangling, driver. */
function parseFilter(text: string): VolumeFilter {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`volume ls: --filter must be KEY=VALUE, not "${text}"`);
  const key = text.slice(0, eq);
  const value = text.slice(eq + 1);
  switch (key) {
    case 'name':
      return (v) => v.Name.includes(value);
    case 'label': {
      const at = value.indexOf('=');
      const k = at < 0 ? value : value.slice(0, at);
      return (v) => v.Labels !== null && Object.hasOwn(v.Labels, k) && (at < 0 || v.Labels[k] === value.slice(at + 1));
    }
    case 'dangling': {
      if (!['true', 'false', '1', '0'].includes(value))
        throw new UsageError(`volume ls: --filter dangling must be true or false, not "${value}"`);
      const dangling = value === 'true' || value === '1';
      return (_, used) => used !== dangling;
    }
    case 'driver':
      return (v) => v.Driver === value;
    default:
      throw new UsageError(`volume ls: unknown filter "${key}" (name, label, dangling, driver)`);
  }
}

/** volume ls [-q] [--format table|json] [--filter K=V]... */
export function volumeList(engine: Engine, argv: string[]): number {
  const { values, positionals } = parse('ls', argv, {
    quiet: { type: 'boolean', short: 'q' },
    format: { type: 'string' },
    filter: { type: 'string', short: 'f', multiple: true },
  });
  if (positionals.length) throw new UsageError(`volume ls: unexpected argument "${positionals[0]}"`);
  const format = values.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError(`volume ls: --format must be table or json, not "${format}"`);
  const filters = (values.filter ?? []).map(parseFilter);
  const users = filters.length ? engine.volumes.usersByVolume() : new Map();
  const volumes = engine.volumes.list().filter((v) => filters.every((f) => f(v, users.has(v.Name))));
  if (values.quiet) out(volumes.map((v) => `${v.Name}\n`).join(''));
  else if (format === 'json') out(volumes.map((v) => `${JSON.stringify(listEntry(v))}\n`).join(''));
  else
    out(
      table(
        ['DRIVER', 'VOLUME NAME'],
        volumes.map((v) => [v.Driver, v.Name]),
      ),
    );
  return 0;
}

/** One line of docker's `volume ls --format json`. */
function listEntry(v: VolumeInspect) {
  const labels = Object.entries(v.Labels ?? {})
    .map(([k, value]) => `${k}=${value}`)
    .join(',');
  return { Driver: v.Driver, Labels: labels, Mountpoint: v.Mountpoint, Name: v.Name, Scope: v.Scope };
}

/** volume inspect NAME...: docker's JSON, an array; a missing one is an error, the others still shown. */
export function volumeInspect(engine: Engine, argv: string[]): number {
  const { positionals } = parse('inspect', argv, {});
  if (positionals.length === 0) throw new UsageError('volume inspect: expected at least one volume');
  const found: VolumeInspect[] = [];
  const failed = eachVolume('inspect', positionals, (name) => found.push(engine.volumes.inspect(name)));
  out(`${JSON.stringify(found, null, 4)}\n`);
  return failed ? 1 : 0;
}

/** volume rm [-f] NAME...: refused for a volume a container uses; -f: a missing one is no error. */
export function volumeRemove(engine: Engine, argv: string[]): number {
  const { values, positionals } = parse('rm', argv, { force: { type: 'boolean', short: 'f' } });
  if (positionals.length === 0) throw new UsageError('volume rm: expected at least one volume');
  const failed = eachVolume('rm', positionals, (name) => {
    engine.volumes.remove(name, values.force === true);
    out(`${name}\n`);
  });
  return failed ? 1 : 0;
}

/** volume prune [-a] [-f]: the volumes no container uses; anonymous ones only without
 * --all, as docker 23 and later. */
export function volumePrune(engine: Engine, argv: string[]): number {
  /* -f is docker's "do not ask": raind never asks */
  const { values, positionals } = parse('prune', argv, { all: { type: 'boolean', short: 'a' }, force: { type: 'boolean', short: 'f' } });
  if (positionals.length) throw new UsageError('volume prune: takes no arguments');
  const r = engine.volumes.prune(values.all === true);
  const deleted = r.deleted.length ? `Deleted Volumes:\n${r.deleted.map((d) => `${d}\n`).join('')}\n` : '';
  out(`${deleted}Total reclaimed space: ${humanSize(r.reclaimed)}\n`);
  return 0;
}

/** Runs fn on each name; a failure is reported and the others still tried, as docker does. */
function eachVolume(cmd: string, names: string[], fn: (name: string) => void): boolean {
  let failed = false;
  for (const name of names) {
    try {
      fn(name);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      err(`raind volume ${cmd}: ${e.message}\n`);
      failed = true;
    }
  }
  return failed;
}
