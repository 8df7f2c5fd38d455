import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { NotFoundError, UserError } from '../../lib/errors.js';
import { isLocked } from '../../lib/lock.js';
import { ownExecutable } from '../../lib/executables.js';
import { isAlive, readProcStat } from '../../lib/proc-stat.js';
import { sleepMs } from '../../lib/sleep.js';
import type { ImageConfig } from '../../oci/image/types.js';
import { findImage } from '../images/names.js';
import { recordedExit, startMonitor } from '../monitor/conmon.js';
import { OciRuntime, RUNTIMES, type RuntimeName } from '../runtime/oci-runtime.js';
import { isMountPoint, mountOverlay } from '../snapshots/overlay.js';
import type { ImageStore } from '../store/store.js';
import { writeEtcFiles } from './etc-files.js';
import { type CreateRequest, defaultHostConfig, mergeConfig } from './merge-config.js';
import { ociMounts, requestedMounts, type VolumeResolver } from './mounts.js';
import { isContainerId } from './id.js';
import { generatedName, validateName } from './names.js';
import { ociConfig } from './oci-config.js';
import { type ContainerRecord, type HostConfig, initialState } from './record.js';
import { unmountRoot } from './root-mount.js';
import { ContainerStore } from './store.js';
import { resolveUser } from './user.js';

export type { CreateRequest } from './merge-config.js';

export interface ContainersOptions {
  root: string;
  runRoot: string;
  /** named volumes; without it, -v NAME:/path is refused */
  volumes?: VolumeResolver;
}

const RESTART_POLICIES = ['', 'no', 'always', 'unless-stopped', 'on-failure'];

/** The engine's containers: create (the init waits on exec.fifo, watched by conmon), start,
 * stop, kill, remove, and the cleanup conmon runs when one exits. Every change to a
 * container is made holding its lock. */
export class Containers {
  readonly store: ContainerStore;

  constructor(
    readonly images: ImageStore,
    readonly opts: ContainersOptions,
  ) {
    this.store = new ContainerStore(opts.root, opts.runRoot);
  }

  runtime(name: string): OciRuntime {
    if (!(RUNTIMES as readonly string[]).includes(name))
      throw new UserError(`--runtime: unknown runtime "${name}" (droplet, runc or crun)`, { kind: 'invalid', field: 'Runtime' });
    return new OciRuntime(name as RuntimeName, this.store.containers, this.opts.runRoot);
  }

  /** create: the container's directory, its root mounted from the image's layers, its OCI
   * config, and conmon running the runtime's create: the init then waits on exec.fifo, as
   * the seed shows. Anything that fails undoes what was made. */
  async create(request: CreateRequest): Promise<ContainerRecord> {
    const { image } = findImage(this.images.images(), request.Config.Image);
    const imageConfig = JSON.parse(readFileSync(this.images.blobs.path(image.id), 'utf8')) as ImageConfig;
    const host: HostConfig = { ...defaultHostConfig(), ...request.HostConfig };
    validateHostConfig(host);
    const runtime = this.runtime(host.Runtime);
    requestedMounts(host);
    const explicitName = request.name !== undefined && request.name !== '' ? validateName(request.name) : undefined;
    const id = this.store.claimId();
    try {
      /* held from the directory's claim to the record's write: ps shows a directory without
       * a record, that no create holds, as a dead container that rm -f removes */
      return await this.store.lockedAsync(id, () => this.createLocked(id, explicitName, request, image, imageConfig, host, runtime));
    } catch (err) {
      try {
        this.destroy(id);
      } catch {
        /* the create's error is the one to tell; rm -f removes what is left */
      }
      throw err;
    }
  }

  private async createLocked(
    id: string,
    explicitName: string | undefined,
    request: CreateRequest,
    image: { id: string; layers: string[] },
    imageConfig: ImageConfig,
    host: HostConfig,
    runtime: OciRuntime,
  ): Promise<ContainerRecord> {
    const name = this.claimName(explicitName, id);
    const config = mergeConfig(request, imageConfig.config ?? {}, id);
    const record: ContainerRecord = {
      Id: id,
      Name: name,
      Created: new Date().toISOString(),
      Path: (config.Entrypoint ?? config.Cmd)[0] ?? '',
      Args: [...(config.Entrypoint ?? []), ...config.Cmd].slice(1),
      Image: image.id,
      ImageName: request.Config.Image,
      State: initialState(),
      RestartCount: 0,
      Driver: 'overlay',
      Config: config,
      HostConfig: host,
      Mounts: [],
      Layers: image.layers,
    };
    this.store.write(record);
    await this.launch(record, runtime, { fresh: true });
    this.store.write(record);
    return record;
  }

  private claimName(explicit: string | undefined, id: string): string {
    if (explicit !== undefined) {
      this.store.claimName(explicit, id);
      return explicit;
    }
    for (let attempt = 0; ; attempt++) {
      const candidate = attempt < 20 ? generatedName() : `${generatedName()}_${id.slice(-4)}${attempt}`;
      try {
        this.store.claimName(candidate, id);
        return candidate;
      } catch (err) {
        if (!(err instanceof UserError) || err.kind !== 'conflict' || attempt > 40) throw err;
      }
    }
  }

  /** The runtime side of a (re)start: the root mounted, the config written, conmon and the
   * runtime's create. Called with the container's lock held. */
  private async launch(
    record: ContainerRecord,
    runtime = this.runtime(record.HostConfig.Runtime),
    opts: { fresh?: boolean } = {},
  ): Promise<void> {
    const dir = this.store.dir(record.Id);
    const runDir = this.store.runDir(record.Id);
    const what = `create ${record.Name}`;
    /* a runtime state left by a container that died without cleanup; a new id has none,
     * and asking the runtime costs a process */
    if (!opts.fresh) runtime.delete(record.Id);
    const merged = join(dir, 'merged');
    /* a restart may come before the last run's cleanup unmounted it */
    if (!isMountPoint(merged)) mountOverlay(this.images.paths, record.Layers, dir, what);
    const hostNetwork = record.HostConfig.NetworkMode === 'host';
    const etc = writeEtcFiles(dir, record.Config.Hostname, hostNetwork);
    const user = resolveUser(merged, record.Config.User);
    const volumes: VolumeResolver =
      this.opts.volumes ??
      ((name) => {
        throw new UserError(`volume ${name}: named volumes are not available here`, { kind: 'invalid', field: 'Binds' });
      });
    const mounts = ociMounts(requestedMounts(record.HostConfig), volumes);
    record.Mounts = mounts.points;
    const spec = ociConfig({ record, rootfs: merged, etc, user, mounts: mounts.oci });
    writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(spec, null, 2)}\n`);
    for (const f of ['exit', 'oom', 'pidfile', 'conmon.pid']) rmSync(join(runDir, f), { force: true });
    /* conmon makes these anew and fails on ones its last run left */
    for (const f of ['attach', 'ctl', 'winsz']) rmSync(join(dir, f), { force: true });
    mkdirSync(runtime.root, { recursive: true, mode: 0o711 });
    const socketDir = join(this.opts.runRoot, 'socket');
    mkdirSync(socketDir, { recursive: true, mode: 0o700 });
    const pid = await startMonitor({
      id: record.Id,
      name: record.Name,
      bundle: dir,
      runDir,
      socketDir,
      logPath: this.logPath(record.Id),
      runtime,
      tty: record.Config.Tty,
      stdin: record.Config.OpenStdin,
      leaveStdinOpen: record.Config.OpenStdin && !record.Config.StdinOnce,
      exitCommand: [ownExecutable('raind'), '--root', this.opts.root, '--runroot', this.opts.runRoot, 'container', 'cleanup', record.Id],
    });
    const monitorPid = Number(readText(join(runDir, 'conmon.pid')).trim());
    record.State = { ...initialState(), Pid: pid, StartedAt: record.State.StartedAt, FinishedAt: record.State.FinishedAt };
    record.InitStartTime = readProcStat(pid)?.startTime ?? '';
    record.Monitor = { Pid: monitorPid, StartTime: readProcStat(monitorPid)?.startTime ?? '' };
  }

  logPath(id: string): string {
    return join(this.store.dir(id), 'ctr.log');
  }

  /** The container's id from an id, a unique prefix of one, or a name. */
  resolve(text: string): string {
    return this.store.resolve(text);
  }

  /** The record, its state brought up to date with what the processes say. */
  inspect(text: string): ContainerRecord {
    const id = this.resolve(text);
    const record = this.readOrDead(id);
    if (!record) throw new NotFoundError(`no such container: ${text}`);
    return this.refreshed(record);
  }

  list(): ContainerRecord[] {
    const out: ContainerRecord[] = [];
    for (const id of this.store.ids()) {
      const record = this.readOrDead(id);
      if (record) out.push(this.refreshed(record));
    }
    return out;
  }

  /** The record; for a directory without one, which a create killed before it wrote it
   * left, a dead container (rm -f removes it); undefined while a create still holds it. */
  private readOrDead(id: string): ContainerRecord | undefined {
    try {
      return this.store.read(id);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      if (isLocked(this.store.runDir(id))) return undefined;
      try {
        return this.store.read(id);
      } catch {
        return deadRecord(id, this.nameOf(id) ?? '', this.store.dir(id));
      }
    }
  }

  /** A container whose init has died is exited, with the code conmon recorded. */
  private refreshed(record: ContainerRecord): ContainerRecord {
    const s = record.State;
    if ((s.Status === 'running' || s.Status === 'paused' || s.Status === 'created') && s.Pid > 0) {
      if (isAlive(s.Pid, record.InitStartTime ?? '')) return record;
      const exit = recordedExit(this.store.runDir(record.Id));
      /* conmon drains the output before it writes the exit code: until then it is running */
      if (!exit && record.Monitor && isAlive(record.Monitor.Pid, record.Monitor.StartTime)) return record;
      const started = s.Status !== 'created';
      record.State = {
        ...s,
        Status: started ? 'exited' : 'created',
        Running: false,
        Paused: false,
        Pid: 0,
        ExitCode: exit?.code ?? (started ? 255 : 0),
        OOMKilled: exit?.oom ?? false,
        FinishedAt: started ? exitTime(this.store.runDir(record.Id)) : s.FinishedAt,
      };
    }
    return record;
  }

  /** start: the runtime's start, after a new create when the container ran before. */
  async start(text: string): Promise<ContainerRecord> {
    const id = this.resolve(text);
    return this.store.lockedAsync(id, () => this.startLocked(id));
  }

  /** start, with the container's lock held; `restart` counts it as a restart, in the
   * record written once it runs. */
  private async startLocked(id: string, restart = false): Promise<ContainerRecord> {
    const record = this.refreshed(this.store.read(id));
    if (record.State.Status === 'running' || record.State.Status === 'paused') return record;
    if (restart) record.RestartCount++;
    const runtime = this.runtime(record.HostConfig.Runtime);
    if (record.State.Pid === 0) await this.launch(record, runtime);
    try {
      runtime.start(id);
    } catch (err) {
      this.afterFailedStart(record, runtime);
      throw err;
    }
    record.State = { ...record.State, Status: 'running', Running: true, StartedAt: new Date().toISOString() };
    record.StoppedByUser = false;
    this.store.write(record);
    return record;
  }

  private afterFailedStart(record: ContainerRecord, runtime: OciRuntime): void {
    try {
      runtime.delete(record.Id);
      unmountRoot(this.store.dir(record.Id), record.Id);
    } catch {}
    record.State = { ...initialState(), Status: 'exited', ExitCode: 128, FinishedAt: new Date().toISOString() };
    this.store.write(record);
  }

  /** stop: the stop signal, then SIGKILL after the timeout (seconds; the container's
   * StopTimeout, else 10). The lock is not held while waiting: conmon's cleanup needs it. */
  async stop(text: string, timeout?: number): Promise<ContainerRecord> {
    const id = this.resolve(text);
    const record = this.store.locked(id, () => {
      const r = this.refreshed(this.store.read(id));
      r.StoppedByUser = true;
      this.store.write(r);
      return r;
    });
    if (record.State.Status === 'exited' || record.State.Pid === 0) return record;
    const runtime = this.runtime(record.HostConfig.Runtime);
    const seconds = timeout ?? record.Config.StopTimeout ?? 10;
    if (record.State.Status === 'paused') runtime.resume(id);
    if (record.State.Status === 'created') runtime.kill(id, 'KILL');
    else if (seconds > 0) signalQuietly(runtime, id, record.Config.StopSignal ?? 'SIGTERM');
    if (!(await this.waitForExit(record, seconds * 1000))) {
      signalQuietly(runtime, id, 'KILL', true);
      await this.waitForExit(record, 10_000);
    }
    return this.inspect(id);
  }

  private async waitForExit(record: ContainerRecord, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (isAlive(record.State.Pid, record.InitStartTime ?? '')) {
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  /** kill: a signal to the container's init. */
  kill(text: string, signal: string): ContainerRecord {
    const id = this.resolve(text);
    return this.store.locked(id, () => {
      const record = this.refreshed(this.store.read(id));
      if (record.State.Status !== 'running' && record.State.Status !== 'paused')
        throw new UserError(`cannot kill container ${record.Name}: it is not running`, { kind: 'conflict' });
      this.runtime(record.HostConfig.Runtime).kill(id, signal.replace(/^SIG/, ''));
      if (/^(SIG)?KILL$|^9$/.test(signal)) {
        record.StoppedByUser = true;
        this.store.write(record);
      }
      return record;
    });
  }

  pause(text: string): ContainerRecord {
    return this.changeRunning(text, 'pause');
  }

  unpause(text: string): ContainerRecord {
    return this.changeRunning(text, 'unpause');
  }

  private changeRunning(text: string, what: 'pause' | 'unpause'): ContainerRecord {
    const id = this.resolve(text);
    return this.store.locked(id, () => {
      const record = this.refreshed(this.store.read(id));
      const want = what === 'pause' ? 'running' : 'paused';
      if (record.State.Status !== want)
        throw new UserError(`cannot ${what} container ${record.Name}: it is ${record.State.Status}`, { kind: 'conflict' });
      const runtime = this.runtime(record.HostConfig.Runtime);
      if (what === 'pause') runtime.pause(id);
      else runtime.resume(id);
      const paused = what === 'pause';
      record.State = { ...record.State, Status: paused ? 'paused' : 'running', Paused: paused };
      this.store.write(record);
      return record;
    });
  }

  /** rm: a running container only with force; then everything of it goes: the runtime's
   * state, the monitor, the root's mount, the directories, the name. */
  remove(text: string, force = false): string {
    const id = this.resolve(text);
    return this.store.locked(id, () => {
      let record: ContainerRecord | undefined;
      try {
        record = this.refreshed(this.store.read(id));
      } catch (err) {
        if (!force) throw err;
      }
      if (record && !force && (record.State.Status === 'running' || record.State.Status === 'paused'))
        throw new UserError(`cannot remove container ${record.Name}: it is ${record.State.Status}: stop it first, or use --force`, {
          kind: 'conflict',
        });
      this.destroy(id, record);
      return id;
    });
  }

  /** Removes whatever exists of a container; works on what a killed command left. */
  private destroy(id: string, record = this.tryRead(id), opts: { runtimeDeleted?: boolean } = {}): void {
    const runtimes = opts.runtimeDeleted ? [] : record ? [record.HostConfig.Runtime] : [...RUNTIMES];
    for (const name of runtimes) {
      try {
        this.runtime(name).delete(id);
      } catch (err) {
        if (record) throw err;
      }
    }
    if (record?.Monitor) {
      /* its container is gone: conmon records the exit, then runs the exit command and
       * waits for it, and that cleanup waits for this lock; so wait for the exit file (conmon
       * writes nothing after it), not for conmon to end */
      const { Pid, StartTime } = record.Monitor;
      const runDir = this.store.runDir(id);
      for (let i = 0; i < 100 && isAlive(Pid, StartTime) && !recordedExit(runDir); i++) sleepMs(10);
    }
    unmountRoot(this.store.dir(id), id);
    const name = record?.Name ?? this.nameOf(id);
    if (name) this.store.releaseName(name, id);
    this.store.remove(id);
  }

  private tryRead(id: string): ContainerRecord | undefined {
    try {
      return this.store.read(id);
    } catch {
      return undefined;
    }
  }

  private nameOf(id: string): string | undefined {
    try {
      return readdirSync(this.store.names).find((n) => this.store.nameHolder(n) === id);
    } catch {
      return undefined;
    }
  }

  /** conmon's exit command: record the exit, remove the runtime's state, unmount the root;
   * then --rm removes the container, or the restart policy starts it again. */
  async cleanup(id: string): Promise<void> {
    const restart = await this.store.lockedAsync(id, async () => {
      const record = this.refreshed(this.store.read(id));
      if (record.State.Status === 'running' || record.State.Status === 'paused') return false;
      const runtime = this.runtime(record.HostConfig.Runtime);
      runtime.delete(id);
      unmountRoot(this.store.dir(id), id);
      record.State.Pid = 0;
      delete record.Monitor;
      this.store.write(record);
      /* a create that failed (its command undoes it) or was killed (rm -f removes it) */
      if (record.State.Status !== 'exited') return false;
      if (record.HostConfig.AutoRemove) {
        this.keepExitCode(id, record.State.ExitCode);
        this.destroy(id, record, { runtimeDeleted: true });
        return false;
      }
      return shouldRestart(record);
    });
    if (!restart) return;
    /* the restart is counted in the record only with the container running again: `wait`
     * reads without the lock, and an exited record with the last restart counted would
     * tell it that no run is left */
    await this.store.lockedAsync(id, async () => {
      const record = this.refreshed(this.store.read(id));
      if (record.State.Status !== 'exited' || !shouldRestart(record)) return;
      await this.startLocked(id, true);
    });
  }

  /** The exit code of a --rm container outlives it, for the `run` that waits on it. */
  private keepExitCode(id: string, code: number): void {
    const dir = join(this.opts.runRoot, 'exits');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(join(dir, id), String(code));
  }

  /** The exit code a removed --rm container left, once its removal has finished: its
   * record goes first, and `run --rm` returns with nothing of it left. */
  private async takeKeptExit(id: string): Promise<number | undefined> {
    const kept = join(this.opts.runRoot, 'exits', id);
    const code = readText(kept).trim();
    if (code === '') return undefined;
    for (let i = 0; i < 500 && (existsSync(this.store.dir(id)) || existsSync(this.store.runDir(id))); i++)
      await new Promise((r) => setTimeout(r, 10));
    rmSync(kept, { force: true });
    return Number(code);
  }

  /** wait: until the container has exited (or, with --rm, is gone); its exit code. */
  async wait(text: string, opts: { removed?: boolean } = {}): Promise<number> {
    let id: string;
    try {
      id = this.resolve(text);
    } catch (err) {
      /* a --rm container that exited and was removed before we looked: `run` waits by id */
      const code = err instanceof NotFoundError && isContainerId(text) ? await this.takeKeptExit(text) : undefined;
      if (code !== undefined) return code;
      throw err;
    }
    for (;;) {
      let record: ContainerRecord | undefined;
      try {
        record = this.refreshed(this.store.read(id));
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        const code = await this.takeKeptExit(id);
        if (code !== undefined) return code;
        throw err;
      }
      const s = record.State;
      const done = s.Status === 'exited' && s.Pid === 0 && !shouldRestart(record);
      if (done && !(opts.removed && record.HostConfig.AutoRemove)) return s.ExitCode;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** What ps and inspect show of a directory without a record. */
function deadRecord(id: string, name: string, dir: string): ContainerRecord {
  let created = new Date(0).toISOString();
  try {
    created = statSync(dir).mtime.toISOString();
  } catch {}
  return {
    Id: id,
    Name: name,
    Created: created,
    Path: '',
    Args: [],
    Image: '',
    ImageName: '',
    State: { ...initialState(), Status: 'dead', Dead: true },
    RestartCount: 0,
    Driver: 'overlay',
    Config: {
      Hostname: '',
      Domainname: '',
      User: '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: [],
      Cmd: [],
      Image: '',
      WorkingDir: '',
      Entrypoint: null,
      Labels: {},
    },
    HostConfig: defaultHostConfig(),
    Mounts: [],
    Layers: [],
  };
}

function shouldRestart(record: ContainerRecord): boolean {
  const { Name, MaximumRetryCount } = record.HostConfig.RestartPolicy;
  /* stopped or killed by a user: docker restarts it only when the daemon restarts */
  if (record.StoppedByUser) return false;
  if (Name === 'always' || Name === 'unless-stopped') return true;
  if (Name === 'on-failure') return record.State.ExitCode !== 0 && (MaximumRetryCount <= 0 || record.RestartCount < MaximumRetryCount);
  return false;
}

function validateHostConfig(host: HostConfig): void {
  const bad = (field: string, why: string) => new UserError(`${field}: ${why}`, { kind: 'invalid', field });
  if (!RESTART_POLICIES.includes(host.RestartPolicy.Name)) throw bad('--restart', `unknown policy "${host.RestartPolicy.Name}"`);
  if (host.AutoRemove && host.RestartPolicy.Name !== '' && host.RestartPolicy.Name !== 'no')
    throw bad('--restart', 'conflicts with --rm: a removed container cannot restart');
  if (!['', 'none', 'host'].includes(host.NetworkMode)) throw bad('--network', `"${host.NetworkMode}" is not available (none or host)`);
  if (host.Memory < 0) throw bad('--memory', 'must not be negative');
  if (host.Memory > 0 && host.Memory < 6 * 1024 * 1024) throw bad('--memory', 'the minimum is 6 MB');
  if (host.MemorySwap > 0 && host.MemorySwap < host.Memory) throw bad('--memory-swap', 'must be at least --memory');
  if (host.NanoCpus < 0) throw bad('--cpus', 'must not be negative');
  if (host.PidsLimit < -1) throw bad('--pids-limit', 'must be -1 (unlimited) or more');
}

function signalQuietly(runtime: OciRuntime, id: string, signal: string, all = false): void {
  try {
    runtime.kill(id, signal.replace(/^SIG/, ''), all);
  } catch {
    /* it exited meanwhile */
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function exitTime(runDir: string): string {
  try {
    return statSync(join(runDir, 'exit')).mtime.toISOString();
  } catch {
    return new Date().toISOString();
  }
}
