import { closeSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../../lib/errors.js';
import type { Process } from '../../oci/spec.js';
import { cgroupManager } from '../../linux/cgroups/manager.js';
import { buildExecPlan } from '../plan/exec-plan.js';
import { loadExecConfig, type ExecConfig } from './exec-config.js';
import { writePidFile, type Context } from './lifecycle.js';
import { InitProcess } from './launch.js';
import { withLock } from '../../lib/lock.js';
import { native } from '../../lib/native.js';
import { checkPreservedFds } from './preserved-fds.js';
import { deriveStatus } from './status.js';
import { validateId, type StoredState } from './store.js';

export interface ExecOptions {
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  ignorePaused: boolean;
}

/** The container's state and what exec needs of its config, as it was at create. */
export function containerForExec(ctx: Context, id: string, ignorePaused: boolean): { state: StoredState; config: ExecConfig } {
  validateId(id);
  const { store } = ctx;
  return withLock(store.dir(id), `container ${id}`, () => {
    const state = store.read(id);
    const status = state.phase === 'creating' ? 'stopped' : deriveStatus(state, store.dir(id));
    if (status === 'stopped') throw new UserError('cannot exec in a stopped container');
    if (status === 'paused' && !ignorePaused) throw new UserError('cannot exec in a paused container (resume it, or use --ignore-paused)');
    return { state, config: loadExecConfig(store.dir(id)) };
  });
}

/** exec: a new process in the running container, with its namespaces, cgroup, seccomp filter
 * and the identity the process spec gives. Returns once the process is running; the caller
 * waits for it (foreground) or not (detach). */
export function execProcess(
  ctx: Context,
  id: string,
  state: StoredState,
  config: ExecConfig,
  proc: Process,
  opts: ExecOptions,
): InitProcess {
  checkPreservedFds(opts.preserveFds);
  if (opts.consoleSocket && !proc.terminal) throw new UserError('--console-socket is for a process with a terminal (--tty)');
  if (proc.terminal && !opts.consoleSocket && opts.detach) throw new UserError('--tty with --detach needs --console-socket');
  const ownConsole = proc.terminal && !opts.consoleSocket;
  const consoleSocket = ownConsole
    ? join(ctx.store.dir(id), `exec-${process.pid}.sock`)
    : opts.consoleSocket && resolve(opts.consoleSocket);
  const records = buildExecPlan({
    namespaces: config.namespaces,
    process: proc,
    initPid: state.pid,
    monitor: !opts.detach,
    consoleSocket,
    preserveFds: opts.preserveFds,
    seccomp: config.seccomp,
  });

  let listener = -1;
  let exec: InitProcess | undefined;
  try {
    if (ownConsole) listener = native().listenUnix(consoleSocket!);
    exec = InitProcess.start(['droplet', 'exec', id, ...proc.args], records, opts.preserveFds);
    const pid = exec.waitForPid();
    cgroupManager(state.cgroups).place(pid);
    exec.go('', '', '', () => {});
    if (ownConsole) exec.consoleMaster = native().receiveFd(listener);
    if (opts.pidFile) writePidFile(opts.pidFile, pid);
    if (opts.detach) exec.release();
    return exec;
  } catch (err) {
    exec?.abort();
    throw err;
  } finally {
    if (listener >= 0) {
      closeSync(listener);
      unlinkSync(consoleSocket!);
    }
  }
}
