import { closeSync, constants, copyFileSync, existsSync, openSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError, errnoCode, reason } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { IdMapping, Spec } from '../../oci/spec.js';
import { ignoredResources } from '../../oci/resources.js';
import { loadSpec } from '../load-spec.js';
import { warmCgroupAttach } from '../../linux/cgroups/container-cgroup.js';
import { cgroupManager, newCgroupManager } from '../../linux/cgroups/manager.js';
import { containerCgroupsPath } from './cgroups-path.js';
import { buildPlan, deviceAllowRules } from '../plan/build.js';
import { execJoinOrder } from '../plan/exec-plan.js';
import { seccompModule } from '../seccomp-module.js';
import { saveExecConfig } from './exec-config.js';
import { hookState, runHooks, seccompListenerPayload } from './hooks.js';
import { checkPreservedFds } from './preserved-fds.js';
import { native } from '../../lib/native.js';
import { explainInitDeath } from './init-death.js';
import { InitDied, InitProcess } from './launch.js';
import { withLock } from '../../lib/lock.js';
import { readProcStat } from '../../lib/proc-stat.js';
import { recordProcess } from './process-record.js';
import { recoverState } from './recovery.js';
import { signalProcess } from '../../lib/signal.js';
import { statusUnderLock, type Status } from './status.js';
import { BrokenState, STATE_OCI_VERSION, type Store, validateId, type StoredState } from './store.js';
import { teardown } from './teardown.js';

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
  for (const w of ignoredResources(spec.linux.resources, 'linux.resources.')) ctx.log.warn(w);
  const cgroups = newCgroupManager(containerCgroupsPath(spec.linux.cgroupsPath, id));
  const { store } = ctx;
  const fifo = store.fifo(id);
  if (opts.consoleSocket && !spec.process.terminal) throw new UserError('--console-socket is for a container with process.terminal set');
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
    id,
    spec,
    bundle,
    fifo,
    cgroups: cgroups.dirs,
    noPivot: opts.noPivot,
    monitor: opts.monitor,
    consoleSocket,
    preserveFds,
    noNewKeyring: opts.noNewKeyring,
    seccomp,
  });

  ctx.log.phase(`create ${id}: config validated, plan built`);
  store.claim(id, bundle);
  return withLock(store.dir(id), `container ${id}`, () => {
    const state: StoredState = {
      ociVersion: STATE_OCI_VERSION,
      id,
      phase: 'creating',
      pid: 0,
      initStartTime: '',
      bundle,
      rootfs: spec.root.path,
      created: new Date().toISOString(),
      owner: '',
      annotations: spec.annotations,
      cgroups: cgroups.dirs,
      hooks: { poststart: spec.hooks.poststart, poststop: spec.hooks.poststop },
    };
    let init: InitProcess | undefined;
    let consoleListener = -1;
    try {
      /* after the claim: an id in use says so, not that its cgroup is busy */
      cgroups.refuseBusy();
      /* the config as it was at create: what a broken state.json is recovered from */
      if (!store.shared(id)) copyConfig(bundle, store.dir(id));
      store.write(state);
      /* exec builds its processes from the container's config as it was at create */
      saveExecConfig(store.dir(id), { process: spec.process, namespaces: execJoinOrder(spec), seccomp });
      if (ownConsole) consoleListener = native().listenUnix(consoleSocket!);
      init = InitProcess.start(['droplet', 'init', id, fifo, ...spec.process.args], records, preserveFds);
      ctx.log.phase(`create ${id}: droplet-init spawned`);
      state.pid = init.waitForPid();
      ctx.log.phase(`create ${id}: init ${state.pid} cloned`);
      state.initStartTime = readProcStat(state.pid)?.startTime ?? '';
      /* before anything else can fail: whatever happens to droplet or to state.json now,
       * delete --force finds the init by this record */
      recordProcess(store.dir(id), 'init', state.pid, state.initStartTime);
      cgroups.claimNew();
      store.write(state);
      writeIdMaps(state.pid, spec);
      if (cgroups.create()) store.write(state);
      cgroups.place(state.pid);
      cgroups.applyResources(spec.linux.resources, deviceAllowRules(spec));
      if (spec.process.oomScoreAdj !== undefined) setOomScoreAdj(state.pid, spec.process.oomScoreAdj);
      ctx.log.phase(`create ${id}: init placed in its cgroups`);
      const listenerPayload = seccomp?.notify ? seccompListenerPayload(state, seccomp.listenerMetadata) : '';
      init.go(hookState(state, 'creating'), hookState({ ...state, phase: 'created' }, 'created'), listenerPayload, () => {
        runHooks('prestart', spec.hooks.prestart, hookState(state, 'creating'), ctx.log, store.dir(id));
        runHooks('createRuntime', spec.hooks.createRuntime, hookState(state, 'creating'), ctx.log, store.dir(id));
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
      /* before teardown: the cgroups tell an OOM kill */
      const why = err instanceof InitDied ? explainInitDeath(err, spec, cgroups) : err;
      try {
        teardown(state, store);
      } catch (cleanupErr) {
        /* the create's own error is the one to report; what is left, delete --force removes */
        ctx.log.warn(`remove what the failed create of ${id} made: ${reason(cleanupErr)}`);
      }
      throw why;
    }
  });
}

/** The bundle's config.json byte for byte (its 64-bit integers stay exact). */
function copyConfig(bundle: string, dir: string): void {
  const file = join(dir, 'config.json');
  try {
    copyFileSync(join(bundle, 'config.json'), file);
  } catch (err) {
    throw new UserError(`write ${file}: ${reason(err)}`);
  }
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
  for (const [file, maps, field] of [
    ['uid_map', spec.linux.uidMappings, 'linux.uidMappings'],
    ['gid_map', spec.linux.gidMappings, 'linux.gidMappings'],
  ] as const) {
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

/** start: one byte into exec.fifo; the init execs the entrypoint with the same pid. */
export function startContainer(ctx: Context, id: string): void {
  validateId(id);
  const { store } = ctx;
  withLock(store.dir(id), `container ${id}`, () => {
    const state = store.read(id);
    const status = statusUnderLock(state, store.dir(id));
    if (status !== 'created') throw new UserError(`cannot start a container that is ${status} (it must be created)`, { kind: 'conflict' });
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
    runHooks('poststart', state.hooks?.poststart ?? [], hookState(state, 'running'), ctx.log, store.dir(id));
  });
}

export function killContainer(ctx: Context, id: string, signal: NodeJS.Signals | number, all: boolean): void {
  validateId(id);
  const { store } = ctx;
  withLock(store.dir(id), `container ${id}`, () => {
    const state = store.read(id);
    const status = statusUnderLock(state, store.dir(id));
    if (status === 'stopped') throw new UserError('cannot kill a stopped container', { kind: 'conflict' });
    /* --all: every process of the cgroups droplet made for it; a joined cgroup may hold others' */
    const cgroups = cgroupManager(state.cgroups);
    const pids = all ? cgroups.ownedPids() : [];
    if (!pids.includes(state.pid)) pids.push(state.pid);
    for (const pid of pids) signalProcess(pid, signal);
    /* as runc: a paused container's tasks die of SIGKILL only once thawed */
    if (signal === 'SIGKILL' || signal === 9) cgroups.thawForKill();
  });
}

/** delete: removes a stopped or created container; with --force any, also one whose state
 * file is missing or corrupt, with what can be recovered of it. */
export function deleteContainer(ctx: Context, id: string, force: boolean): void {
  validateId(id);
  const { store } = ctx;
  try {
    withLock(store.dir(id), `container ${id}`, () => {
      let state: StoredState;
      let status: Status;
      let recovered = false;
      try {
        state = store.read(id);
        status = statusUnderLock(state, store.dir(id));
      } catch (err) {
        if (!(err instanceof BrokenState)) throw err;
        if (!force) throw new UserError(`${err.message} (delete --force removes what is left of it)`);
        state = recoverState(store, id);
        status = 'unknown';
        recovered = true;
      }
      if (!force && (status === 'running' || status === 'paused'))
        throw new UserError(`cannot delete a ${status} container (stop it first, or use --force)`, { kind: 'conflict' });
      if (!force && status === 'unknown')
        throw new UserError('cannot delete a container that is unknown: its init may still run (use --force)');
      teardown(state, store, ctx.log);
      if (recovered)
        for (const d of state.cgroups)
          if (!d.owned && existsSync(d.dir))
            ctx.log.warn(`kept cgroup ${d.dir}: it holds processes, and without its state file nothing says they are the container's`);
    });
  } catch (err) {
    /* As runc: deleting what does not exist is not an error with --force. */
    if (force && err instanceof UserError && err.kind === 'not-found') return;
    throw err;
  }
}
