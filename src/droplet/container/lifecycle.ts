import { closeSync, constants, openSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError, errnoCode, reason } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { sleepMs } from '../../common/sleep.js';
import type { IdMapping, Spec } from '../../oci/spec.js';
import { loadSpec } from '../../oci/validate.js';
import {
  cgroupPids, containerCgroupDirs, createCgroups, placeInCgroups, removeCgroups, warmCgroupAttach,
} from '../cgroups/container-cgroup.js';
import { applyResources } from '../cgroups/apply-resources.js';
import { thawForKill } from '../cgroups/freezer.js';
import { buildPlan, deviceAllowRules } from '../plan/build.js';
import { seccompModule } from '../seccomp-module.js';
import { hookState, runHooks, seccompListenerPayload } from './hooks.js';
import { checkPreservedFds } from './preserved-fds.js';
import { InitProcess } from './launch.js';
import { native } from '../../common/native.js';
import { withLock } from './lock.js';
import { isAlive, readProcStat } from './proc-stat.js';
import { deriveStatus, type Status } from './status.js';
import { STATE_OCI_VERSION, Store, validateId, type StoredState } from './store.js';

export interface Context {
  store: Store;
  log: Logger;
}

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  noPivot: boolean;
  /** `run` in the foreground: droplet stays the container's (grand)parent */
  monitor: boolean;
  consoleSocket?: string;
  preserveFds: number;
  noNewKeyring: boolean;
}

/** create: validate everything, claim the id, start the init in its namespaces, put it in
 * its cgroup, let it build the container, and return once it blocks on exec.fifo. */
export function createContainer(ctx: Context, opts: CreateOptions): InitProcess {
  const id = validateId(opts.id);
  warmCgroupAttach();
  const bundle = resolve(opts.bundle);
  const spec = loadSpec(bundle);
  const cgroups = containerCgroupDirs(spec.linux.cgroupsPath, id);
  const { store } = ctx;
  const fifo = store.fifo(id);
  if (opts.consoleSocket && !spec.process.terminal)
    throw new UserError('--console-socket is for a container with process.terminal set');
  const preserveFds = opts.preserveFds + listenFds();
  checkPreservedFds(preserveFds);
  /* as runc: socket-activated fds are announced to the container's process */
  if (listenFds()) spec.process.env.push(`LISTEN_FDS=${listenFds()}`, 'LISTEN_PID=1');
  const seccomp = spec.linux.seccomp === undefined ? undefined : seccompModule().compileSeccomp(spec.linux.seccomp);
  for (const s of seccomp?.skipped ?? []) ctx.log.debug(`seccomp: ${s.name} has no number on ${s.arch}: skipped`);
  /* run in the foreground with a terminal and no console socket: droplet takes the master */
  const ownConsole = spec.process.terminal && !opts.consoleSocket && opts.monitor;
  const consoleSocket = ownConsole ? join(store.dir(id), 'console.sock') : opts.consoleSocket && resolve(opts.consoleSocket);
  const records = buildPlan({
    id, spec, bundle, fifo, cgroups, noPivot: opts.noPivot, monitor: opts.monitor,
    consoleSocket, preserveFds, noNewKeyring: opts.noNewKeyring, seccomp,
  });

  ctx.log.phase(`create ${id}: config validated, plan built`);
  store.claim(id);
  return withLock(store.dir(id), id, () => {
    /* exec builds its processes from the container's config as it was at create */
    writeFileSync(join(store.dir(id), 'config.json'), JSON.stringify(spec.raw));
    const state: StoredState = {
      ociVersion: STATE_OCI_VERSION, id, phase: 'creating', pid: 0, initStartTime: '', bundle,
      rootfs: spec.root.path, created: new Date().toISOString(), owner: '', annotations: spec.annotations, cgroups,
      hooks: { poststart: spec.hooks.poststart, poststop: spec.hooks.poststop },
    };
    let init: InitProcess | undefined;
    let consoleListener = -1;
    try {
      store.write(state);
      if (ownConsole) consoleListener = native().listenUnix(consoleSocket!);
      init = InitProcess.start(['droplet', 'init', id, fifo, ...spec.process.args], records, preserveFds);
      ctx.log.phase(`create ${id}: droplet-init spawned`);
      state.pid = init.waitForPid();
      ctx.log.phase(`create ${id}: init ${state.pid} cloned`);
      state.initStartTime = readProcStat(state.pid)?.startTime ?? '';
      writeIdMaps(state.pid, spec);
      createCgroups(cgroups);
      placeInCgroups(cgroups, state.pid);
      applyResources(cgroups, spec.linux.resources, deviceAllowRules(spec));
      if (spec.process.oomScoreAdj !== undefined) setOomScoreAdj(state.pid, spec.process.oomScoreAdj);
      ctx.log.phase(`create ${id}: init placed in its cgroups`);
      const listenerPayload = seccomp?.notify ? seccompListenerPayload(state, seccomp.listenerMetadata) : '';
      init.go(hookState(state, 'creating'), hookState({ ...state, phase: 'created' }, 'created'), listenerPayload, () => {
        runHooks('prestart', spec.hooks.prestart, hookState(state, 'creating'), ctx.log);
        runHooks('createRuntime', spec.hooks.createRuntime, hookState(state, 'creating'), ctx.log);
      });
      ctx.log.phase(`create ${id}: init ready on exec.fifo`);
      if (ownConsole) {
        /* the init connected and sent the master before it reported ready */
        init.consoleMaster = native().receiveFd(consoleListener);
        closeSync(consoleListener);
        consoleListener = -1;
        unlinkSync(consoleSocket!);
      }
      state.phase = 'created';
      store.write(state);
      if (opts.pidFile) writePidFile(opts.pidFile, state.pid);
      if (!opts.monitor) init.release();
      return init;
    } catch (err) {
      if (consoleListener >= 0) closeSync(consoleListener);
      init?.abort();
      cleanup(state, store);
      throw err;
    }
  });
}

/** LISTEN_FDS (systemd socket activation) passes that many fds from 3 on: they go to the
 * container too, as with runc. */
function listenFds(): number {
  const n = Number(process.env.LISTEN_FDS ?? 0);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** The host side of a new user namespace: its id maps, written while the init waits. */
function writeIdMaps(pid: number, spec: Spec): void {
  const user = spec.linux.namespaces.find((n) => n.type === 'user');
  if (!user || user.path) return;
  const text = (maps: IdMapping[]) => maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
  for (const [file, maps, field] of [['uid_map', spec.linux.uidMappings, 'linux.uidMappings'], ['gid_map', spec.linux.gidMappings, 'linux.gidMappings']] as const) {
    try {
      writeFileSync(`/proc/${pid}/${file}`, text(maps));
    } catch (err) {
      throw new UserError(`write ${file}: ${reason(err)} (${field})`);
    }
  }
}

function setOomScoreAdj(pid: number, value: number): void {
  try {
    writeFileSync(`/proc/${pid}/oom_score_adj`, String(value));
  } catch (err) {
    throw new UserError(`set oom_score_adj to ${value}: ${reason(err)} (process.oomScoreAdj)`);
  }
}

/** Written as runc does: to a temporary file, then renamed, so a reader never sees it empty. */
export function writePidFile(file: string, pid: number): void {
  const path = resolve(file);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, String(pid));
    renameSync(tmp, path);
  } catch (err) {
    throw new UserError(`write pid file ${path}: ${reason(err)}`);
  }
}

/** The status as seen by a command that holds the lock: a "creating" left by a dead create
 * is stopped. */
function lockedStatus(state: StoredState, store: Store): Status {
  return state.phase === 'creating' ? 'stopped' : deriveStatus(state, store.dir(state.id));
}

/** start: one byte into exec.fifo; the init execs the entrypoint with the same pid. */
export function startContainer(ctx: Context, id: string): void {
  validateId(id);
  const { store } = ctx;
  withLock(store.dir(id), id, () => {
    const state = store.read(id);
    const status = lockedStatus(state, store);
    if (status !== 'created') throw new UserError(`cannot start a container that is ${status} (it must be created)`);
    const fifo = store.fifo(id);
    let fd: number;
    try {
      fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if (errnoCode(err) === 'ENXIO') throw new UserError(`cannot start: the init is not waiting on ${fifo}`);
      throw new UserError(`open ${fifo}: ${reason(err)}`);
    }
    try {
      writeSync(fd, Buffer.from([0]));
    } finally {
      closeSync(fd);
    }
    unlinkSync(fifo);
    ctx.log.phase(`start ${id}: start byte written`);
    runHooks('poststart', state.hooks?.poststart ?? [], hookState(state, 'running'), ctx.log);
  });
}

export function killContainer(ctx: Context, id: string, signal: NodeJS.Signals | number, all: boolean): void {
  validateId(id);
  const { store } = ctx;
  withLock(store.dir(id), id, () => {
    const state = store.read(id);
    const status = lockedStatus(state, store);
    if (status === 'stopped') throw new UserError('cannot kill a stopped container');
    const pids = all ? cgroupPids(state.cgroups) : [state.pid];
    if (!pids.includes(state.pid)) pids.push(state.pid);
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch (err) {
        if (errnoCode(err) !== 'ESRCH') throw new UserError(`signal pid ${pid}: ${reason(err)}`);
      }
    }
    /* as runc: a paused container's tasks die of SIGKILL only once thawed */
    if (signal === 'SIGKILL' || signal === 9) thawForKill(state.cgroups);
  });
}

export function deleteContainer(ctx: Context, id: string, force: boolean): void {
  validateId(id);
  const { store } = ctx;
  try {
    withLock(store.dir(id), id, () => {
      const state = store.read(id);
      const status = lockedStatus(state, store);
      if ((status === 'running' || status === 'paused') && !force)
        throw new UserError(`cannot delete a ${status} container (stop it first, or use --force)`);
      cleanup(state, store, ctx.log);
    });
  } catch (err) {
    /* As runc: deleting what does not exist is not an error with --force. */
    if (force && err instanceof UserError && err.message === `container ${id} does not exist`) return;
    throw err;
  }
}

/** Kills whatever is left of the container, waits for it, and removes its cgroups and state.
 * A container that ran (log given) then gets its poststop hooks. */
export function cleanup(state: StoredState, store: Store, log?: Logger): void {
  const pids = cgroupPids(state.cgroups);
  if (state.pid && isAlive(state.pid, state.initStartTime)) pids.push(state.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
  thawForKill(state.cgroups);
  for (let i = 0; i < 2000 && state.pid && isAlive(state.pid, state.initStartTime); i++) sleepMs(5);
  removeCgroups(state.cgroups);
  store.remove(state.id);
  if (log) runHooks('poststop', state.hooks?.poststop ?? [], hookState(state, 'stopped'), log);
}
