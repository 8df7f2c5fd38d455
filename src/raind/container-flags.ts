import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError, reason } from '../lib/errors.js';
import { parseSignal } from '../lib/signals.js';
import { parseSize } from '../lib/units.js';
import type { CreateRequest } from '../condenser/containers/merge-config.js';
import type { MountSpec, RestartPolicy, Ulimit } from '../condenser/containers/record.js';
import { parseProfileText } from '../condenser/containers/seccomp/container-profile.js';
import type { PortBindings } from '../condenser/network/ports.js';

type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** docker's create and run flags, the ones people use. */
export const CREATE_OPTIONS = {
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
  rm: { type: 'boolean' },
  name: { type: 'string' },
  env: { type: 'string', short: 'e', multiple: true },
  'env-file': { type: 'string', multiple: true },
  workdir: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  entrypoint: { type: 'string' },
  volume: { type: 'string', short: 'v', multiple: true },
  mount: { type: 'string', multiple: true },
  tmpfs: { type: 'string', multiple: true },
  memory: { type: 'string', short: 'm' },
  'memory-swap': { type: 'string' },
  cpus: { type: 'string' },
  'cpu-shares': { type: 'string', short: 'c' },
  'pids-limit': { type: 'string' },
  'cap-add': { type: 'string', multiple: true },
  'cap-drop': { type: 'string', multiple: true },
  privileged: { type: 'boolean' },
  'read-only': { type: 'boolean' },
  'security-opt': { type: 'string', multiple: true },
  hostname: { type: 'string', short: 'h' },
  restart: { type: 'string' },
  label: { type: 'string', short: 'l', multiple: true },
  'stop-signal': { type: 'string' },
  'stop-timeout': { type: 'string' },
  ulimit: { type: 'string', multiple: true },
  init: { type: 'boolean' },
  network: { type: 'string' },
  net: { type: 'string' },
  runtime: { type: 'string' },
  publish: { type: 'string', short: 'p', multiple: true },
  'network-alias': { type: 'string', multiple: true },
  ip: { type: 'string' },
  'publish-all': { type: 'boolean', short: 'P' },
  expose: { type: 'string', multiple: true },
  dns: { type: 'string', multiple: true },
  'add-host': { type: 'string', multiple: true },
  pull: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const satisfies Options;

/** Options come before the image; everything after it is the command, as docker reads it.
 * A flag's value is joined to it (`--cpus=-1`), so that a value starting with "-" is a
 * value, as docker takes it, and not an unknown flag. */
export function splitAtPositional(argv: string[], options: Options): { options: string[]; rest: string[] } {
  const longOf = new Map<string, string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== 'string') continue;
    longOf.set(`--${name}`, name);
    if (o.short) longOf.set(`-${o.short}`, name);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') return { options: out, rest: argv.slice(i + 1) };
    if (!a.startsWith('-') || a === '-') return { options: out, rest: argv.slice(i) };
    const long = longOf.get(a);
    /* -it, -dit: grouped short flags; when the last letter takes a value, it takes the next word */
    const grouped = !long && /^-[a-zA-Z]{2,}$/.test(a) ? longOf.get(`-${a.at(-1)}`) : undefined;
    if ((long || grouped) && i + 1 < argv.length) {
      if (grouped) out.push(a.slice(0, -1));
      out.push(`--${long ?? grouped}=${argv[++i]}`);
    } else out.push(a);
  }
  return { options: out, rest: [] };
}

export function parseOptions(cmd: string, argv: string[], options: Options): Values {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Values;
  } catch (e) {
    throw new UsageError(`${cmd}: ${(e as Error).message.split('\n')[0]}`);
  }
}

const list = (v: Values[string]): string[] => (Array.isArray(v) ? (v as string[]) : v === undefined ? [] : [String(v)]);
const str = (v: Values[string]): string | undefined => (v === undefined ? undefined : String(v));

/** The create request of `create`/`run`'s flags, checked: a bad value is one line naming
 * the flag. */
export function createRequest(cmd: string, values: Values, image: string, command: string[]): CreateRequest {
  const env = [...list(values['env-file']).flatMap((f) => envFile(cmd, f)), ...list(values.env).map((e) => envEntry(e))].filter(
    (e): e is string => e !== undefined,
  );
  const labels: Record<string, string> = {};
  for (const l of list(values.label)) {
    const eq = l.indexOf('=');
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  const portBindings: PortBindings = {};
  for (const p of list(values.publish))
    for (const { key, binding } of publishFlag(cmd, p)) portBindings[key] = [...(portBindings[key] ?? []), binding];
  const network = str(values.network) ?? str(values.net);
  const aliases = list(values['network-alias']);
  const ip = str(values.ip);
  const dns = list(values.dns);
  for (const d of dns)
    if (!/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:]+)$/.test(d)) throw new UsageError(`${cmd}: --dns "${d}" is not an IP address`);
  const extraHosts = list(values['add-host']).map((h) => {
    const m = /^([a-zA-Z0-9][a-zA-Z0-9_.-]*)[:=](\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:]+)$/.exec(h);
    if (!m) throw new UsageError(`${cmd}: --add-host "${h}" must be NAME:ADDRESS`);
    return `${m[1]}:${m[2]}`;
  });
  const exposed: Record<string, object> = {};
  for (const p of list(values.expose)) {
    if (!/^\d{1,5}(\/(tcp|udp))?$/.test(p)) throw new UsageError(`${cmd}: --expose "${p}" must be PORT[/tcp|udp]`);
    exposed[p.includes('/') ? p : `${p}/tcp`] = {};
  }
  for (const a of aliases)
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(a))
      throw new UsageError(`${cmd}: --network-alias "${a}" must be letters, digits, "_", "." or "-"`);
  const stopSignal = str(values['stop-signal']);
  if (stopSignal !== undefined) parseSignal(stopSignal, `${cmd}: --stop-signal`);
  const stopTimeout = optionalInt(cmd, '--stop-timeout', str(values['stop-timeout']), -1);
  const memory = sizeFlag(cmd, '--memory', str(values.memory));
  const memorySwap = sizeFlag(cmd, '--memory-swap', str(values['memory-swap']));
  const cpus = str(values.cpus);
  let nanoCpus = 0;
  if (cpus !== undefined) {
    const n = Number(cpus);
    if (!/^\d+(\.\d+)?$/.test(cpus) || !(n > 0))
      throw new UsageError(`${cmd}: --cpus must be a number greater than 0, such as 0.5 or 2, not "${cpus}"`);
    nanoCpus = Math.round(n * 1e9);
  }
  const entrypoint = str(values.entrypoint);
  return {
    ...(str(values.name) !== undefined ? { name: str(values.name) } : {}),
    ...(aliases.length || ip !== undefined
      ? {
          NetworkingConfig: {
            EndpointsConfig: {
              [network ?? 'raind']: {
                ...(aliases.length ? { Aliases: aliases } : {}),
                ...(ip !== undefined ? { IPAMConfig: { IPv4Address: ip } } : {}),
              },
            },
          },
        }
      : {}),
    Config: {
      Image: image,
      Cmd: command,
      ...(entrypoint !== undefined ? { Entrypoint: [entrypoint] } : {}),
      Env: env,
      ...(str(values.workdir) !== undefined ? { WorkingDir: str(values.workdir) } : {}),
      ...(str(values.user) !== undefined ? { User: str(values.user) } : {}),
      ...(str(values.hostname) !== undefined ? { Hostname: str(values.hostname) } : {}),
      Tty: values.tty === true,
      OpenStdin: values.interactive === true,
      AttachStdin: values.interactive === true,
      Labels: labels,
      ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
      ...(stopSignal !== undefined ? { StopSignal: stopSignal } : {}),
      ...(stopTimeout !== undefined ? { StopTimeout: stopTimeout } : {}),
    },
    HostConfig: {
      Binds: list(values.volume),
      Mounts: list(values.mount).map((m) => mountFlag(cmd, m)),
      Tmpfs: Object.fromEntries(
        list(values.tmpfs).map((t) => {
          const colon = t.indexOf(':');
          return colon < 0 ? [t, ''] : [t.slice(0, colon), t.slice(colon + 1)];
        }),
      ),
      ...(network !== undefined ? { NetworkMode: network } : {}),
      PortBindings: portBindings,
      ...(values['publish-all'] === true ? { PublishAllPorts: true } : {}),
      ...(dns.length ? { Dns: dns } : {}),
      ...(extraHosts.length ? { ExtraHosts: extraHosts } : {}),
      RestartPolicy: restartPolicy(cmd, str(values.restart)),
      AutoRemove: values.rm === true,
      CapAdd: list(values['cap-add']),
      CapDrop: list(values['cap-drop']),
      Privileged: values.privileged === true,
      ReadonlyRootfs: values['read-only'] === true,
      SecurityOpt: list(values['security-opt']).map((o) => securityOpt(cmd, o)),
      Memory: memory ?? 0,
      MemorySwap: memorySwap ?? 0,
      NanoCpus: nanoCpus,
      CpuShares: optionalInt(cmd, '--cpu-shares', str(values['cpu-shares']), 2) ?? 0,
      PidsLimit: optionalInt(cmd, '--pids-limit', str(values['pids-limit']), -1) ?? 0,
      Ulimits: list(values.ulimit).map((u) => ulimit(cmd, u)),
      Init: values.init === true,
      Runtime: str(values.runtime) ?? 'droplet',
    },
  };
}

/** -p [IP:][HOST:]CTR[/tcp|udp]: HOST empty or left out is a port the engine picks. CTR
 * and HOST may be ranges (80-82, 8000-8002) of the same length; as docker does, a range is
 * one binding per port. A host range for one port (8000-8010:80) is docker's too: the
 * engine takes its first free port. */
export function publishFlag(cmd: string, text: string): { key: string; binding: { HostIp: string; HostPort: string } }[] {
  const bad = (why: string) => new UsageError(`${cmd}: -p ${text}: ${why}`);
  const slash = text.lastIndexOf('/');
  const protocol = slash < 0 ? 'tcp' : text.slice(slash + 1);
  if (protocol !== 'tcp' && protocol !== 'udp') throw bad(`the protocol must be tcp or udp, not "${protocol}"`);
  const parts = (slash < 0 ? text : text.slice(0, slash)).split(':');
  if (parts.length > 3) throw bad('expected [IP:][HOST:]CTR[/tcp|udp] (IPv6 host addresses are not supported)');
  const container = portRange(parts.pop() ?? '', 'container', bad);
  const hostText = parts.pop() ?? '';
  const host = hostText === '' ? undefined : portRange(hostText, 'host', bad);
  const ip = parts.pop() ?? '';
  if (ip !== '' && !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) throw bad(`"${ip}" is not an IPv4 address`);
  if (host && host.count > 1 && container.count === 1)
    return [{ key: `${container.first}/${protocol}`, binding: { HostIp: ip, HostPort: `${host.first}-${host.first + host.count - 1}` } }];
  if (host && host.count !== container.count) throw bad('the host and container port ranges must have the same length');
  return Array.from({ length: container.count }, (_, i) => ({
    key: `${container.first + i}/${protocol}`,
    binding: { HostIp: ip, HostPort: host ? String(host.first + i) : '' },
  }));
}

/** PORT or FIRST-LAST, each 1-65535. */
function portRange(text: string, what: string, bad: (why: string) => Error): { first: number; count: number } {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  const first = Number(m?.[1]);
  const last = m?.[2] === undefined ? first : Number(m[2]);
  if (!m || first < 1 || last > 65535) throw bad(`the ${what} port must be a number from 1 to 65535 or a range of them, not "${text}"`);
  if (last < first) throw bad(`the ${what} port range ${text} ends before it starts`);
  return { first, count: last - first + 1 };
}

function sizeFlag(cmd: string, flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return parseSize(text, `${cmd}: ${flag}`);
}

function optionalInt(cmd: string, flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || n < min) throw new UsageError(`${cmd}: ${flag} must be a whole number of at least ${min}, not "${text}"`);
  return n;
}

/** `-e NAME` takes NAME's value from this environment, and is dropped when it has none. */
function envEntry(text: string): string | undefined {
  if (text.includes('=')) return text;
  const value = process.env[text];
  return value === undefined ? undefined : `${text}=${value}`;
}

function envFile(cmd: string, file: string): (string | undefined)[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${cmd}: --env-file ${file}: ${reason(e)}`);
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map(envEntry);
}

function restartPolicy(cmd: string, text: string | undefined): RestartPolicy {
  if (text === undefined || text === '' || text === 'no') return { Name: 'no', MaximumRetryCount: 0 };
  const [name = '', count] = text.split(':');
  if (name === 'on-failure') {
    const n = count === undefined ? 0 : Number(count);
    if (count !== undefined && (!/^\d+$/.test(count) || n < 0))
      throw new UsageError(`${cmd}: --restart on-failure:N needs a whole number, not "${count}"`);
    return { Name: 'on-failure', MaximumRetryCount: n };
  }
  if ((name === 'always' || name === 'unless-stopped') && count === undefined) return { Name: name, MaximumRetryCount: 0 };
  throw new UsageError(`${cmd}: --restart must be no, always, unless-stopped or on-failure[:N], not "${text}"`);
}

function securityOpt(cmd: string, text: string): string {
  const at = text.search(/[=:]/);
  const key = at < 0 ? text : text.slice(0, at);
  const value = at < 0 ? undefined : text.slice(at + 1);
  if (key === 'no-new-privileges' && (value === undefined || value === 'true' || value === 'false')) return text;
  if (key === 'seccomp' && value === 'unconfined') return 'seccomp=unconfined';
  if (key === 'seccomp' && value) return `seccomp=${seccompFile(cmd, value)}`;
  throw new UsageError(`${cmd}: --security-opt "${text}" is not supported (no-new-privileges, seccomp=FILE|unconfined)`);
}

/** seccomp=FILE becomes seccomp=<the profile's JSON>, as docker's CLI does: the container
 * keeps its profile even if the file changes or goes. Checked here, to name the file. */
function seccompFile(cmd: string, file: string): string {
  const flag = `${cmd}: --security-opt seccomp=${file}`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${flag}: ${reason(e)}`);
  }
  parseProfileText(text, flag);
  return JSON.stringify(JSON.parse(text));
}

function ulimit(cmd: string, text: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(text);
  const names = [
    'core',
    'cpu',
    'data',
    'fsize',
    'locks',
    'memlock',
    'msgqueue',
    'nice',
    'nofile',
    'nproc',
    'rss',
    'rtprio',
    'rttime',
    'sigpending',
    'stack',
    'as',
  ];
  if (!m || !names.includes(m[1] ?? ''))
    throw new UsageError(`${cmd}: --ulimit must be NAME=SOFT[:HARD] with a known NAME (nofile, nproc, ...), not "${text}"`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft > hard && hard !== -1) throw new UsageError(`${cmd}: --ulimit ${text}: the soft limit is above the hard one`);
  return { Name: m[1] ?? '', Soft: soft, Hard: hard };
}

/** --mount type=bind|volume|tmpfs,source=...,target=...[,readonly][,tmpfs-size=...][,volume-nocopy] */
function mountFlag(cmd: string, text: string): MountSpec {
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    fields.set(eq < 0 ? part : part.slice(0, eq), eq < 0 ? 'true' : part.slice(eq + 1));
  }
  const bad = (why: string) => new UsageError(`${cmd}: --mount ${text}: ${why}`);
  const type = fields.get('type') ?? 'volume';
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw bad(`unknown type "${type}" (bind, volume or tmpfs)`);
  const target = fields.get('target') ?? fields.get('dst') ?? fields.get('destination');
  if (!target?.startsWith('/')) throw bad('target must be an absolute path');
  const source = fields.get('source') ?? fields.get('src') ?? '';
  if (type === 'bind' && !source.startsWith('/')) throw bad('a bind needs an absolute source');
  const ro = fields.get('readonly') ?? fields.get('ro');
  const spec: MountSpec = { Type: type, Source: source, Target: target, ReadOnly: ro === 'true' || ro === '1' };
  if (type === 'tmpfs') {
    const size = fields.get('tmpfs-size');
    const mode = fields.get('tmpfs-mode');
    const options = [size ? `size=${parseSize(size, `${cmd}: --mount tmpfs-size`)}` : '', mode ? `mode=${mode}` : '']
      .filter(Boolean)
      .join(',');
    spec.TmpfsOptions = { Options: options };
  }
  const propagation = fields.get('bind-propagation');
  if (propagation) spec.BindOptions = { Propagation: propagation };
  const noCopy = fields.get('volume-nocopy');
  if (type === 'volume' && (noCopy === 'true' || noCopy === '1')) spec.VolumeOptions = { NoCopy: true };
  return spec;
}
