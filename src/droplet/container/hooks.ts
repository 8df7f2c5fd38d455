import { closeSync, readSync } from 'node:fs';
import { constants } from 'node:os';
import { UserError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { sleepMs } from '../../lib/sleep.js';
import type { Hook, HookKind } from '../../oci/spec.js';
import { native } from '../../lib/native.js';
import { readProcStat } from '../../lib/proc-stat.js';
import { forgetProcess, recordedProcesses, recordProcess } from './process-record.js';
import { processGroupSince, signalProcess } from '../../lib/signal.js';
import type { Status } from './status.js';
import type { StoredState } from './store.js';

/** The state document a hook reads on stdin (runtime-spec state). */
export function hookState(state: StoredState, status: Status): string {
  return JSON.stringify({
    ociVersion: state.ociVersion,
    id: state.id,
    status,
    pid: state.pid,
    bundle: state.bundle,
    annotations: state.annotations,
  });
}

/** What a seccomp notify listener receives with the listener fd (runtime-spec
 * ContainerProcessState). */
export function seccompListenerPayload(state: StoredState, metadata: string | undefined): string {
  return JSON.stringify({
    ociVersion: state.ociVersion,
    fds: ['seccompFd'],
    pid: state.pid,
    metadata: metadata ?? '',
    state: JSON.parse(hookState(state, 'creating')),
  });
}

/** Runs the hooks the runtime itself runs (prestart, createRuntime, poststart, poststop), in
 * droplet's namespaces, one after another. A failure of the first two fails the command; a
 * failing poststart or poststop hook is a warning and the lifecycle goes on (runtime.md).
 * A hook dies with droplet; while it runs, the container's state directory (recordIn) names
 * its process group, so that `delete --force` after a killed droplet ends what it started. */
export function runHooks(kind: HookKind, hooks: Hook[], stdin: string, log: Logger, recordIn?: string): void {
  const fatal = kind === 'prestart' || kind === 'createRuntime';
  hooks.forEach((h, i) => {
    const why = runHook(h, stdin, recordIn);
    if (!why) return;
    const msg = `${kind} hook ${h.path}: ${why} (hooks.${kind}[${i}])`;
    if (fatal) throw new UserError(msg);
    log.warn(msg);
  });
}

/** Why the hook failed, or undefined if it succeeded. */
function runHook(h: Hook, stdin: string, recordIn: string | undefined): string | undefined {
  let pid: number;
  let stderr: number;
  try {
    [pid, stderr] = native().spawnHook(h.path, h.args.length ? h.args : [h.path], h.env, stdin);
  } catch (err) {
    const why = (err as Error).message.replace(`${h.path}: `, '');
    /* strerror's capital: one line reads as one sentence */
    return why.charAt(0).toLowerCase() + why.slice(1);
  }
  const startTime = readProcStat(pid)?.startTime;
  let record: string | undefined;
  if (recordIn && startTime) {
    try {
      record = recordProcess(recordIn, 'hook', pid, startTime);
    } catch {
      /* a full disk: the hook still dies with droplet, only what it started would be missed */
    }
  }
  try {
    const status = native().waitHook(pid, (h.timeout ?? 0) * 1000);
    if (status === -1) {
      killGroup(pid, startTime ?? '0');
      native().waitHook(pid, 0);
      return `timed out after ${h.timeout}s`;
    }
    if (status === 0) return undefined;
    const detail = firstLine(stderr);
    const why = status > 256 ? `killed by ${signalName(status - 256)}` : `exit status ${status}`;
    return detail ? `${why}: ${detail}` : why;
  } finally {
    closeSync(stderr);
    if (record) forgetProcess(record);
  }
}

/** Kills what the hooks a killed droplet left running had started. */
export function killRecordedHooks(dir: string): void {
  for (const r of recordedProcesses(dir, 'hook')) {
    killGroup(r.pid, r.startTime);
    forgetProcess(r.file);
  }
}

/** SIGKILL to every process of a hook's group that started with it or after, then a short
 * wait for them to go: they are no container's, no cgroup will say when they are gone. */
function killGroup(pgid: number, since: string): void {
  for (let i = 0; i < 200; i++) {
    const left = processGroupSince(pgid, since);
    if (left.length === 0) return;
    for (const pid of left) signalProcess(pid, 'SIGKILL');
    sleepMs(5);
  }
}

function firstLine(fd: number): string {
  const buf = Buffer.alloc(4096);
  const n = readSync(fd, buf, 0, buf.length, 0);
  return buf.toString('utf8', 0, n).trim().split('\n')[0] ?? '';
}

function signalName(n: number): string {
  return Object.entries(constants.signals).find(([, v]) => v === n)?.[0] ?? `signal ${n}`;
}
