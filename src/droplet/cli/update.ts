import { readFileSync } from 'node:fs';
import { InvalidFieldError, UsageError, UserError, reason } from '../../lib/errors.js';
import { parseSize } from '../../lib/units.js';
import { parseExactJson } from '../../lib/exact-json.js';
import { ignoredResources, readResources, type Resources } from '../../oci/resources.js';
import { cgroupManager } from '../../linux/cgroups/manager.js';
import type { Context } from '../container/lifecycle.js';
import { onlyId, parseCommand } from './args.js';
import { withLockedContainer } from './locked-container.js';

/** Each flag and where it goes in a linux.resources object. */
const FLAGS = {
  memory: ['memory', 'limit', 'size'],
  'memory-reservation': ['memory', 'reservation', 'size'],
  'memory-swap': ['memory', 'swap', 'size'],
  'kernel-memory': ['memory', 'kernel', 'size'],
  'kernel-memory-tcp': ['memory', 'kernelTCP', 'size'],
  'pids-limit': ['pids', 'limit', 'int'],
  'cpu-shares': ['cpu', 'shares', 'int'],
  'cpu-quota': ['cpu', 'quota', 'int'],
  'cpu-period': ['cpu', 'period', 'int'],
  'cpu-burst': ['cpu', 'burst', 'int'],
  'cpu-rt-runtime': ['cpu', 'realtimeRuntime', 'int'],
  'cpu-rt-period': ['cpu', 'realtimePeriod', 'int'],
  'cpu-idle': ['cpu', 'idle', 'int'],
  'cpuset-cpus': ['cpu', 'cpus', 'string'],
  'cpuset-mems': ['cpu', 'mems', 'string'],
  'blkio-weight': ['blockIO', 'weight', 'int'],
} as const;

type Flag = keyof typeof FLAGS;

const OPTIONS = {
  resources: { type: 'string', short: 'r' },
  ...Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'string' }])),
} as Record<'resources' | Flag, { type: 'string'; short?: string }>;

/** update [-r FILE|-] [--memory N] ... ID: changes the resources of a created, running or
 * paused container. With -r, a linux.resources JSON object from FILE or, for "-", stdin
 * (podman passes --resources=FILE, containerd "--resources -"); otherwise the flags. As
 * crun does, only the given values are written. Device rules are fixed at create and
 * ignored here, as runc ignores them. */
export function update(ctx: Context, argv: string[]): number {
  const { values, positionals } = parseCommand('update', argv, OPTIONS);
  const id = onlyId('update', positionals);
  const flags = (Object.keys(FLAGS) as Flag[]).filter((f) => values[f] !== undefined);
  let resources: Resources;
  if (values.resources !== undefined) {
    if (flags.length) throw new UsageError(`update: --resources cannot be combined with --${flags[0]}`);
    resources = fromFile(values.resources);
  } else {
    if (flags.length === 0) throw new UsageError('update: nothing to update (give --resources FILE or a flag such as --memory)');
    resources = fromFlags(flags, values as Record<Flag, string>);
  }
  resources.devices = [];
  for (const w of ignoredResources(resources, '')) ctx.log.warn(w);
  withLockedContainer(ctx, id, (state, status) => {
    if (status === 'stopped' || status === 'creating')
      throw new UserError(`cannot update a container that is ${status}`, { kind: 'conflict' });
    cgroupManager(state.cgroups).update(resources);
  });
  return 0;
}

/** The resources JSON, with errors naming its source instead of config.json. */
function parse(raw: unknown, source: string): Resources {
  try {
    return readResources(raw, '');
  } catch (err) {
    if (err instanceof InvalidFieldError) throw err.from(source);
    throw err;
  }
}

function fromFile(file: string): Resources {
  const source = file === '-' ? 'resources from stdin' : `resources file ${file}`;
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError(`update: read ${source}: ${reason(err)}`);
  }
  let raw: unknown;
  try {
    raw = parseExactJson(text);
  } catch (err) {
    throw new UsageError(`update: ${source}: invalid JSON: ${(err as Error).message}`);
  }
  return parse(raw, source);
}

function fromFlags(flags: Flag[], values: Record<Flag, string>): Resources {
  const raw: Record<string, Record<string, unknown>> = {};
  for (const flag of flags) {
    const [group, key, kind] = FLAGS[flag];
    const text = values[flag];
    const value = kind === 'string' ? text : kind === 'size' ? parseSize(text, `update: --${flag}`) : parseInteger(text, flag);
    raw[group] ??= {};
    raw[group][key] = value;
    /* each flag alone first, so that an error names the flag */
    parse({ [group]: { [key]: value } }, `--${flag}`);
  }
  return parse(raw, 'update');
}

function parseInteger(text: string, flag: string): number {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`update: --${flag}: "${text}" is not an integer`);
  return Number(text);
}
