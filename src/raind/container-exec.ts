import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { join } from 'node:path';
import { UsageError, UserError } from '../lib/errors.js';
import type { Engine } from '../condenser/engine.js';
import { resolveUser } from '../condenser/containers/user.js';
import { containerCapabilities } from '../condenser/containers/capabilities.js';
import { parseOptions, splitAtPositional } from './container-flags.js';

const EXEC_OPTIONS = {
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
  detach: { type: 'boolean', short: 'd' },
  env: { type: 'string', short: 'e', multiple: true },
  workdir: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  privileged: { type: 'boolean' },
} as const;

/** exec [-i] [-t] [-d] [-e K=V]... [-w DIR] [-u USER] [--privileged] CONTAINER COMMAND...: the runtime's
 * exec in the container's namespaces; it exits with the command's code. With -t the
 * runtime gives the command a terminal and relays this one to it. */
export function containerExec(engine: Engine, argv: string[]): number {
  const split = splitAtPositional(argv, EXEC_OPTIONS);
  const values = parseOptions('exec', split.options, EXEC_OPTIONS);
  const [name, ...command] = split.rest;
  if (name === undefined || command.length === 0) throw new UsageError('exec: expected a container and a command');
  const containers = engine.containers;
  const record = containers.inspect(name);
  if (record.State.Status !== 'running')
    throw new UserError(`exec: container ${record.Name} is not running (it is ${record.State.Status})`, {
      kind: 'conflict',
      exitCode: 125,
    });
  const runtime = containers.runtime(record.HostConfig.Runtime);
  const args = ['exec'];
  if (values.tty) args.push('--tty');
  if (values.detach) args.push('--detach');
  for (const e of (values.env as string[] | undefined) ?? []) args.push('--env', e.includes('=') ? e : `${e}=${process.env[e] ?? ''}`);
  if (values.workdir !== undefined) args.push('--cwd', String(values.workdir));
  if (values.user !== undefined) {
    const user = resolveUser(join(containers.store.dir(record.Id), 'merged'), String(values.user));
    args.push('--user', `${user.uid}:${user.gid}`);
  }
  /* docker's exec --privileged: every capability the host has */
  if (values.privileged) for (const cap of containerCapabilities([], [], true)) args.push('--cap', cap);
  args.push(record.Id, ...command);
  /* without -i the command reads nothing, as docker gives it */
  const stdin = values.interactive || values.tty ? 'inherit' : 'ignore';
  const r = spawnSync(runtime.path, [...runtime.globalArgs, ...args], { stdio: [stdin, 'inherit', 'inherit'] });
  if (r.error) throw new UserError(`exec: ${runtime.name}: ${r.error.message}`, { exitCode: 125 });
  if (r.status === null) return 128 + (r.signal ? (constants.signals[r.signal] ?? 0) : 0);
  return r.status;
}
