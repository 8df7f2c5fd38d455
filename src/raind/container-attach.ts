import { UsageError, UserError } from '../lib/errors.js';
import type { Engine } from '../condenser/engine.js';
import type { ContainerRecord } from '../condenser/containers/record.js';
import { type AttachOptions, AttachSession } from './attach-session.js';
import { parseOptions, splitAtPositional } from './container-flags.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../lib/detach-keys.js';

/** Starts a container: the caller's start, which calls beforeStart once the init waits. */
export type Starter = (beforeStart: (record: ContainerRecord) => void) => Promise<unknown>;

/** --detach-keys of attach, start -a and run. */
export function detachKeysFlag(cmd: string, value: unknown): Buffer {
  return parseDetachKeys(typeof value === 'string' ? value : DEFAULT_DETACH_KEYS, `${cmd}: --detach-keys`);
}

/** `run -i/-t` in the foreground and `start -a/-i`: attached before the container starts,
 * so that none of its output is missed; exits with the container's code (after --rm has
 * removed it), or 0 when the detach keys leave it running. */
export async function attachAndStart(
  engine: Engine,
  id: string,
  options: AttachOptions,
  start: Starter = (beforeStart) => engine.containers.start(id, beforeStart),
): Promise<number> {
  const session = new AttachSession(engine, options);
  try {
    await start((record) => session.connect(record));
    /* it was running already: start had nothing to do */
    if (!session.connected) session.connect(runningRecord(engine.containers.inspect(id), 'start'));
    const outcome = await session.relay();
    if (outcome === 'detached') return 0;
  } finally {
    session.end();
  }
  return engine.containers.wait(id, { removed: true });
}

const ATTACH_OPTIONS = {
  'no-stdin': { type: 'boolean' },
  'detach-keys': { type: 'string' },
} as const;

/** attach [--no-stdin] [--detach-keys KEYS] CONTAINER: this terminal to a running
 * container's; stdin too when it was created with -i. Exits with the container's code,
 * or 0 after the detach keys. */
export async function containerAttach(engine: Engine, argv: string[]): Promise<number> {
  const split = splitAtPositional(argv, ATTACH_OPTIONS);
  const values = parseOptions('attach', split.options, ATTACH_OPTIONS);
  if (split.rest.length !== 1) throw new UsageError('attach: expected one container');
  const detachKeys = detachKeysFlag('attach', values['detach-keys']);
  const record = runningRecord(engine.containers.inspect(split.rest[0] ?? ''), 'attach');
  const session = new AttachSession(engine, { stdin: record.Config.OpenStdin && values['no-stdin'] !== true, detachKeys });
  try {
    session.connect(record);
    if ((await session.relay()) === 'detached') return 0;
  } finally {
    session.end();
  }
  return engine.containers.wait(record.Id, { removed: true });
}

/** docker's words for a container there is nothing to attach to. */
function runningRecord(record: ContainerRecord, cmd: string): ContainerRecord {
  const status = record.State.Status;
  if (status === 'paused') throw new UserError(`${cmd}: you cannot attach to a paused container, unpause it first`, { kind: 'conflict' });
  if (status !== 'running')
    throw new UserError(`${cmd}: you cannot attach to a stopped container (${record.Name} is ${status}), start it first`, {
      kind: 'conflict',
    });
  return record;
}
