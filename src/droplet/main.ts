import { writeSync } from 'node:fs';
import { UsageError, UserError, describeBug, isBug, reason } from '../lib/errors.js';
import { Logger, type LogFormat } from '../lib/log.js';
import { Store } from './container/store.js';
import type { Context } from './container/lifecycle.js';
import { systemdCgroupError } from './cli/systemd-cgroup.js';

declare const DROPLET_VERSION: string;

const USAGE = `usage: droplet [global options] COMMAND [options] [ID] [args]

Runs OCI containers (runtime-spec bundles) with the create + init model.

commands:
  spec [-b DIR]                             write a default config.json
  create [-b DIR] [--pid-file F] [--no-pivot] ID
                                            start the init, blocked on exec.fifo
  start ID                                  let the init exec the entrypoint
  run [-b DIR] [--pid-file F] [-d] [--no-pivot] ID
                                            create + start; waits unless -d
  exec [-t] [-d] [-p FILE] [-e K=V] [-u UID[:GID]] [--cwd DIR] ... ID COMMAND...
                                            run another process in the container
  state ID                                  print the container's state JSON
  kill [-a|--all] ID [SIGNAL]               send a signal (default TERM)
  delete [-f|--force] ID                    remove a stopped (or, with -f, any) container
  list [-f table|json] [-q]                 list containers
  update [-r FILE|-] [--memory N] [--pids-limit N] [--cpu-shares N] [--cpu-quota N]
         [--cpu-period N] [--cpuset-cpus L] [--cpuset-mems L] ... ID
                                            change the container's resources
  pause ID / resume ID                      freeze / thaw every process of the container
  ps [-f table|json] ID [ps options]        the container's processes
  events [--stats] [--interval D] ID        stats and OOM events as JSON lines
  features                                  the runtime-spec features document

global options:
  --root DIR          state directory (default /run/droplet)
  --log FILE          write log lines to FILE
  --log-format text|json
  --debug             log debug messages
  -v, --version       print the version
  -h, --help          print this help
`;

const GLOBAL_WITH_VALUE = new Set(['--root', '--log', '--log-format']);

interface Globals {
  root: string;
  log?: string;
  logFormat: LogFormat;
  debug: boolean;
}

/** Global options come before the command, as with runc: `droplet --root R --log L create ...`. */
function splitGlobals(argv: string[]): { globals: Globals; command?: string; rest: string[]; help: boolean; version: boolean } {
  const globals: Globals = { root: '/run/droplet', logFormat: 'text', debug: false };
  let help = false;
  let version = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!; // i < argv.length
    if (!arg.startsWith('-')) break;
    const eq = arg.indexOf('=');
    const name = (eq > 0 ? arg.slice(0, eq) : arg).replace(/^-(?=[a-z]{2})/, '--');
    let value: string | undefined;
    if (GLOBAL_WITH_VALUE.has(name)) {
      value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UserError(`option ${name} needs a value`);
    }
    switch (name) {
      case '--root':
        globals.root = value!;
        break;
      case '--log':
        globals.log = value;
        break;
      case '--log-format':
        if (value !== 'text' && value !== 'json') throw new UserError(`--log-format must be text or json, not "${value}"`);
        globals.logFormat = value;
        break;
      case '--debug':
        globals.debug = true;
        break;
      case '--systemd-cgroup':
        throw systemdCgroupError();
      case '-h':
      case '--help':
        help = true;
        break;
      case '-v':
      case '--version':
        version = true;
        break;
      default:
        throw new UserError(`unknown global option "${arg}"`);
    }
  }
  return { globals, command: argv[i], rest: argv.slice(i + 1), help, version };
}

const COMMANDS = new Set([
  'spec',
  'create',
  'start',
  'run',
  'exec',
  'state',
  'kill',
  'delete',
  'list',
  'update',
  'pause',
  'resume',
  'ps',
  'events',
  'features',
]);

/* A command's module is loaded when the command runs: each start pays only for its own. */
async function dispatch(command: string, ctx: Context, rest: string[]): Promise<number> {
  switch (command) {
    case 'spec':
      return (require('./cli/spec.js') as typeof import('./cli/spec.js')).spec(rest);
    case 'create':
      return (require('./cli/create.js') as typeof import('./cli/create.js')).create(ctx, rest);
    case 'start':
      return (require('./cli/start.js') as typeof import('./cli/start.js')).start(ctx, rest);
    case 'run':
      return (require('./cli/run.js') as typeof import('./cli/run.js')).run(ctx, rest);
    case 'exec':
      return (require('./cli/exec.js') as typeof import('./cli/exec.js')).exec(ctx, rest);
    case 'state':
      return (require('./cli/state.js') as typeof import('./cli/state.js')).state(ctx, rest);
    case 'kill':
      return (require('./cli/kill.js') as typeof import('./cli/kill.js')).kill(ctx, rest);
    case 'delete':
      return (require('./cli/delete.js') as typeof import('./cli/delete.js')).del(ctx, rest);
    case 'list':
      return (require('./cli/list.js') as typeof import('./cli/list.js')).list(ctx, rest);
    case 'update':
      return (require('./cli/update.js') as typeof import('./cli/update.js')).update(ctx, rest);
    case 'pause':
      return (require('./cli/pause.js') as typeof import('./cli/pause.js')).pause(ctx, rest);
    case 'resume':
      return (require('./cli/resume.js') as typeof import('./cli/resume.js')).resume(ctx, rest);
    case 'ps':
      return (require('./cli/ps.js') as typeof import('./cli/ps.js')).ps(ctx, rest);
    case 'events':
      return (require('./cli/events.js') as typeof import('./cli/events.js')).events(ctx, rest);
    case 'features':
      return (require('./cli/features.js') as typeof import('./cli/features.js')).features(rest, DROPLET_VERSION);
    default:
      throw new UserError(`unknown command "${command}" (see droplet --help)`);
  }
}

/** The container id a failing command was about, for `droplet: create c1: ...`. */
function subject(command: string, rest: string[]): string | undefined {
  if (command === 'ps') return rest[(require('./cli/ps.js') as typeof import('./cli/ps.js')).psIdIndex(rest)];
  if (command === 'exec') return (require('./cli/exec.js') as typeof import('./cli/exec.js')).execIdOf(rest);
  /* their options take values ("-b ."): the id is the first positional argument */
  if (command === 'create' || command === 'run') {
    const { CREATE_OPTIONS } = require('./cli/create.js') as typeof import('./cli/create.js');
    const { parseArgs } = require('node:util') as typeof import('node:util');
    try {
      return parseArgs({
        args: rest,
        options: { ...CREATE_OPTIONS, detach: { type: 'boolean', short: 'd' } },
        allowPositionals: true,
        strict: false,
      }).positionals[0];
    } catch {
      return undefined;
    }
  }
  const ids = rest.filter((a) => !a.startsWith('-') && /^[\w+.-]+$/.test(a));
  /* update and events take option values ("--memory 4m") before the id, which comes last */
  return command === 'update' || command === 'events' ? ids[ids.length - 1] : ids[0];
}

export async function main(argv: string[]): Promise<number> {
  let log = new Logger(undefined, 'text', false);
  let command: string | undefined;
  let rest: string[] = [];
  try {
    const parsed = splitGlobals(argv);
    log = new Logger(parsed.globals.log, parsed.globals.logFormat, parsed.globals.debug);
    command = parsed.command;
    rest = parsed.rest;
    if (parsed.version) {
      writeSync(1, `droplet version ${DROPLET_VERSION}\nspec: 1.2.1\n`);
      return 0;
    }
    if (parsed.help || !command || command === 'help') {
      writeSync(parsed.help || command === 'help' ? 1 : 2, USAGE);
      return parsed.help || command === 'help' ? 0 : 2;
    }
    /* what the runtime's own start and droplet's shared modules took, before the command's */
    log.phase(`${command}: started`);
    return await dispatch(command, { store: new Store(parsed.globals.root), log }, rest);
  } catch (err) {
    const id = command && command !== 'spec' && command !== 'list' && command !== 'features' ? subject(command, rest) : undefined;
    const prefix = command && COMMANDS.has(command) ? `${command}${id ? ` ${id}` : ''}: ` : '';
    /* a bug says it is one, and where: it is no problem of the input or the host */
    const msg = err instanceof UserError ? err.message : isBug(err) ? describeBug(err) : reason(err);
    /* a command-line error already names its command */
    log.error(err instanceof UsageError ? msg : prefix + msg);
    if (!(err instanceof UserError) && process.env.DROPLET_DEBUG_STACK) writeSync(2, `${(err as Error).stack}\n`);
    return err instanceof UserError ? err.exitCode : 1;
  }
}
