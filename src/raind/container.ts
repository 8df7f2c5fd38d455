import { isatty } from 'node:tty';
import { NotFoundError, UsageError, UserError } from '../lib/errors.js';
import { parseSignal } from '../lib/signals.js';
import type { Engine } from '../condenser/engine.js';
import { findImage } from '../condenser/images/names.js';
import { LogReader } from '../condenser/logs/k8s-file.js';
import type { CreateRequest } from '../condenser/containers/merge-config.js';
import type { ContainerRecord } from '../condenser/containers/record.js';
import { CREATE_OPTIONS, createRequest, parseOptions, splitAtPositional } from './container-flags.js';
import { attachAndStart, detachKeysFlag } from './container-attach.js';
import { followUntilExit } from './container-logs.js';
import { proxySignals } from './signal-proxy.js';
import { terminalSize } from './local-terminal.js';
import { PullProgress } from './progress.js';
import { err, out } from './output.js';

/** docker's exit code for a failure of the engine itself, in `run`. */
const ENGINE_FAILURE = 125;

/** The image is pulled first when the store lacks it, as docker's CLI does. */
async function ensureImage(engine: Engine, ref: string, quiet: boolean): Promise<void> {
  try {
    findImage(engine.images.images(), ref);
    return;
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
  }
  if (!quiet) err(`Unable to find image '${ref}' locally\n`);
  const progress = new PullProgress(err, isatty(2));
  await engine.pull(ref, quiet ? {} : { progress: progress.say, layerProgress: progress.layer });
}

/** `create` and `run` read the same flags; errors of the engine exit 125 (docker's code). */
async function createFromArgs(
  engine: Engine,
  cmd: string,
  argv: string[],
  extra: Record<string, { type: 'boolean' | 'string'; short?: string }>,
) {
  const options = { ...CREATE_OPTIONS, ...extra };
  const split = splitAtPositional(argv, options);
  const values = parseOptions(cmd, split.options, options);
  const [image, ...command] = split.rest;
  if (image === undefined) throw new UsageError(`${cmd}: expected an image`);
  const request = createRequest(cmd, values, image, command);
  if (cmd === 'run' && values.detach !== true) attachedRun(request);
  const pull = (values.pull as string | undefined) ?? 'missing';
  if (pull !== 'missing' && pull !== 'never') throw new UsageError(`${cmd}: --pull must be missing or never, not "${pull}"`);
  const detachKeys = cmd === 'run' ? detachKeysFlag(cmd, values['detach-keys']) : undefined;
  if (pull === 'missing') await ensureImage(engine, image, values.quiet === true);
  const record = await engine.containers.create(request, { warn: (message) => err(`WARNING: ${message}\n`) });
  return { record, values, detachKeys };
}

/** docker's CLI for a `run` it attaches to: stdin closes when this client leaves, and a
 * terminal starts at this one's size. */
function attachedRun(request: CreateRequest): void {
  if (request.Config.OpenStdin) request.Config.StdinOnce = true;
  const size = request.Config.Tty ? terminalSize() : undefined;
  if (size) request.HostConfig = { ...request.HostConfig, ConsoleSize: [size.rows, size.cols] };
}

export async function containerCreate(engine: Engine, argv: string[]): Promise<number> {
  try {
    const { record } = await createFromArgs(engine, 'create', argv, {});
    out(`${record.Id}\n`);
    return 0;
  } catch (e) {
    throw asEngineFailure(e);
  }
}

/** run = create + start; in the foreground it prints the output and exits with the
 * container's code, as docker does. */
export async function containerRun(engine: Engine, argv: string[]): Promise<number> {
  let created: Awaited<ReturnType<typeof createFromArgs>>;
  try {
    created = await createFromArgs(engine, 'run', argv, { detach: { type: 'boolean', short: 'd' }, 'detach-keys': { type: 'string' } });
  } catch (e) {
    throw asEngineFailure(e);
  }
  const { record, values, detachKeys = Buffer.alloc(0) } = created;
  const containers = engine.containers;
  if (values.detach) {
    await startOrExplain(engine, record.Id);
    out(`${record.Id}\n`);
    return 0;
  }
  if (record.Config.Tty || record.Config.OpenStdin) {
    const options = { stdin: record.Config.OpenStdin, detachKeys };
    return attachAndStart(engine, record.Id, options, (beforeStart) => startOrExplain(engine, record.Id, beforeStart));
  }
  const reader = LogReader.open(containers.logPath(record.Id));
  await startOrExplain(engine, record.Id);
  const stopProxy = proxySignals(engine, record.Id);
  try {
    if (reader) await followUntilExit(engine, record.Id, reader);
    /* the exit is recorded: this process removes a --rm container itself rather than
     * wait for conmon's cleanup to start; whichever takes the lock first does it */
    if (record.HostConfig.AutoRemove) await cleanupQuietly(engine, record.Id);
    return await containers.wait(record.Id, { removed: true });
  } finally {
    stopProxy();
  }
}

async function cleanupQuietly(engine: Engine, id: string): Promise<void> {
  try {
    await engine.containers.cleanup(id);
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
  }
}

/** A container whose command cannot run: docker's 126 (not executable) and 127 (not found). */
async function startOrExplain(engine: Engine, id: string, beforeStart?: (record: ContainerRecord) => void): Promise<void> {
  try {
    await engine.containers.start(id, beforeStart);
  } catch (e) {
    if (engine.containers.inspect(id).HostConfig.AutoRemove) {
      try {
        /* --rm: the anonymous volumes go with it */
        await engine.containers.remove(id, true, true);
      } catch {}
    }
    throw asEngineFailure(e);
  }
}

function asEngineFailure(e: unknown): unknown {
  if (!(e instanceof UserError) || e.exitCode !== 1) return e;
  const message = e.message;
  const code =
    /no such file|not found/i.test(message) && /exec|command|executable/i.test(message)
      ? 127
      : /permission denied/i.test(message) && /exec/i.test(message)
        ? 126
        : ENGINE_FAILURE;
  return new UserError(message, { kind: e.kind, ...(e.field !== undefined ? { field: e.field } : {}), exitCode: code });
}

export async function containerStart(engine: Engine, argv: string[]): Promise<number> {
  const options = {
    attach: { type: 'boolean', short: 'a' },
    interactive: { type: 'boolean', short: 'i' },
    'detach-keys': { type: 'string' },
  } as const;
  const split = splitAtPositional(argv, options);
  const values = parseOptions('start', split.options, options);
  if (split.rest.length === 0) throw new UsageError('start: expected at least one container');
  if (values.attach || values.interactive) {
    if (split.rest.length !== 1) throw new UsageError('start: --attach takes one container');
    const record = engine.containers.inspect(split.rest[0] ?? '');
    const detachKeys = detachKeysFlag('start', values['detach-keys']);
    return attachAndStart(engine, record.Id, { stdin: values.interactive === true && record.Config.OpenStdin, detachKeys });
  }
  return eachContainer('start', split.rest, async (name) => {
    await engine.containers.start(name);
    out(`${name}\n`);
  });
}

export async function containerStop(engine: Engine, argv: string[]): Promise<number> {
  const options = { time: { type: 'string', short: 't' }, timeout: { type: 'string' } } as const;
  const split = splitAtPositional(argv, options);
  const values = parseOptions('stop', split.options, options);
  const time = (values.time ?? values.timeout) as string | undefined;
  if (time !== undefined && !/^\d+$/.test(time)) throw new UsageError(`stop: --time must be a number of seconds, not "${time}"`);
  if (split.rest.length === 0) throw new UsageError('stop: expected at least one container');
  return eachContainer('stop', split.rest, async (name) => {
    await engine.containers.stop(name, time === undefined ? undefined : Number(time));
    out(`${name}\n`);
  });
}

export async function containerRestart(engine: Engine, argv: string[]): Promise<number> {
  const options = { time: { type: 'string', short: 't' } } as const;
  const split = splitAtPositional(argv, options);
  const values = parseOptions('restart', split.options, options);
  const time = values.time as string | undefined;
  if (time !== undefined && !/^\d+$/.test(time)) throw new UsageError(`restart: --time must be a number of seconds, not "${time}"`);
  if (split.rest.length === 0) throw new UsageError('restart: expected at least one container');
  return eachContainer('restart', split.rest, async (name) => {
    await engine.containers.stop(name, time === undefined ? undefined : Number(time));
    await engine.containers.start(name);
    out(`${name}\n`);
  });
}

export async function containerKill(engine: Engine, argv: string[]): Promise<number> {
  const options = { signal: { type: 'string', short: 's' } } as const;
  const split = splitAtPositional(argv, options);
  const values = parseOptions('kill', split.options, options);
  const signal = (values.signal as string | undefined) ?? 'KILL';
  const parsed = parseSignal(signal, 'kill: --signal');
  if (split.rest.length === 0) throw new UsageError('kill: expected at least one container');
  return eachContainer('kill', split.rest, async (name) => {
    await engine.containers.kill(name, String(parsed));
    out(`${name}\n`);
  });
}

export async function containerRemove(engine: Engine, argv: string[]): Promise<number> {
  const options = { force: { type: 'boolean', short: 'f' }, volumes: { type: 'boolean', short: 'v' } } as const;
  const split = splitAtPositional(argv, options);
  const values = parseOptions('rm', split.options, options);
  if (split.rest.length === 0) throw new UsageError('rm: expected at least one container');
  return eachContainer('rm', split.rest, async (name) => {
    await engine.containers.remove(name, values.force === true, values.volumes === true);
    out(`${name}\n`);
  });
}

export async function containerPause(engine: Engine, argv: string[]): Promise<number> {
  if (argv.length === 0) throw new UsageError('pause: expected at least one container');
  return eachContainer('pause', argv, async (name) => {
    await engine.containers.pause(name);
    out(`${name}\n`);
  });
}

export async function containerUnpause(engine: Engine, argv: string[]): Promise<number> {
  if (argv.length === 0) throw new UsageError('unpause: expected at least one container');
  return eachContainer('unpause', argv, async (name) => {
    await engine.containers.unpause(name);
    out(`${name}\n`);
  });
}

export async function containerWait(engine: Engine, argv: string[]): Promise<number> {
  if (argv.length === 0) throw new UsageError('wait: expected at least one container');
  return eachContainer('wait', argv, async (name) => {
    out(`${await engine.containers.wait(name)}\n`);
  });
}

/** conmon's exit command: not for people, but harmless when run by hand. */
export async function containerCleanup(engine: Engine, argv: string[]): Promise<number> {
  if (argv.length !== 1) throw new UsageError('cleanup: expected one container id');
  try {
    await engine.containers.cleanup(argv[0] ?? '');
  } catch (e) {
    if (e instanceof NotFoundError) return 0;
    throw e;
  }
  return 0;
}

/** Runs a command on each container named; a failure is reported and the others are still
 * tried, as docker does; the exit code is then the engine's 125. */
async function eachContainer(cmd: string, names: string[], fn: (name: string) => Promise<void>): Promise<number> {
  let failed = false;
  for (const name of names) {
    try {
      await fn(name);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      err(`raind ${cmd}: ${e.message}\n`);
      failed = true;
    }
  }
  return failed ? ENGINE_FAILURE : 0;
}
