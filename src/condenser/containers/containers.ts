import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { NotFoundError, UserError } from '../../lib/errors.js';
import { findInPath, ownExecutable } from '../../lib/executables.js';
import { isAlive, readProcStat } from '../../lib/proc-stat.js';
import { sleepMs } from '../../lib/sleep.js';
import type { ImageConfig } from '../../oci/image/types.js';
import { findImage } from '../images/names.js';
import { recordedExit, startMonitor } from '../monitor/conmon.js';
import { OciRuntime, RUNTIMES, type RuntimeName } from '../runtime/oci-runtime.js';
import { isMountPoint, mountOverlay } from '../snapshots/overlay.js';
import type { ImageStore } from '../store/store.js';
import { attach, detach } from '../network/attach.js';
import { DEFAULT_ALIASES, type NetworkConfig, SPECIAL_MODES } from '../network/config.js';
import { Leases } from '../network/leases.js';
import { hasDns } from '../network/netavark.js';
import { publishAll } from '../network/ports.js';
import { NetworkStore, checkAddress } from '../network/store.js';
import { writeEtcFiles } from './etc-files.js';
import { type CreateRequest, defaultHostConfig, mergeConfig } from './merge-config.js';
import { ociMounts, requestedMounts, type VolumeResolver } from './mounts.js';
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
  readonly networks: NetworkStore;
  readonly leases = new Leases();

  constructor(
    readonly images: ImageStore,
    readonly opts: ContainersOptions,
  ) {
    this.store = new ContainerStore(opts.root, opts.runRoot);
    this.networks = new NetworkStore(opts.root);
  }

  /** The network a network mode names; none for `none` and `host`. */
  networkOf(mode: string): NetworkConfig | undefined {
    if (SPECIAL_MODES.includes(mode)) return undefined;
    try {
      return this.networks.get(mode === '' ? (DEFAULT_ALIASES[0] ?? 'raind') : mode);
    } catch (err) {
      if (err instanceof UserError && err.kind === 'not-found')
        throw new UserError(`--network: network ${mode} does not exist (none, host, or a network of raind network ls)`, {
          kind: 'not-found',
          field: 'NetworkMode',
        });
      throw err;
    }
  }

  /** The container's pinned network namespace. */
  netnsPath(id: string): string {
    return join(this.opts.runRoot, 'netns', id);
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
    const host: HostConfig = { ...defaultHostConfig(), ...request.HostConfig };
    validateHostConfig(host);
    const network = this.networkOf(host.NetworkMode);
    if (!network && Object.keys(host.PortBindings).length > 0)
      throw new UserError(`-p: publishing ports needs a network, not --network ${host.NetworkMode}`, {
        kind: 'invalid',
        field: 'PortBindings',
      });
    const runtime = this.runtime(host.Runtime);
    requestedMounts(host);
    const explicitName = request.name !== undefined && request.name !== '' ? validateName(request.name) : undefined;
    const { image } = findImage(this.images.images(), request.Config.Image);
    const imageConfig = JSON.parse(readFileSync(this.images.blobs.path(image.id), 'utf8')) as ImageConfig;
    if (network && host.PublishAllPorts)
      host.PortBindings = publishAll(host.PortBindings, request.Config.ExposedPorts, imageConfig.config?.ExposedPorts);
    const id = this.store.claimId();
    let name: string | undefined;
    try {
      name = this.claimName(explicitName, id);
      const config = mergeConfig(request, imageConfig.config ?? {}, id);
      if (Object.keys(host.PortBindings).length)
        config.ExposedPorts = { ...config.ExposedPorts, ...Object.fromEntries(Object.keys(host.PortBindings).map((p) => [p, {}])) };
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
      const endpoints = Object.values(request.NetworkingConfig?.EndpointsConfig ?? {});
      const aliases = endpoints.flatMap((e) => e.Aliases ?? []);
      if (aliases.length) {
        if (!network)
          throw new UserError('--network-alias: needs a network, not none or host', { kind: 'invalid', field: 'NetworkingConfig' });
        record.NetworkAliases = aliases;
      }
      const ip = endpoints.map((e) => e.IPAMConfig?.IPv4Address).find((a) => a);
      if (ip) {
        if (!network) throw new UserError('--ip: needs a network, not none or host', { kind: 'invalid', field: 'NetworkingConfig' });
        checkAddress(network, ip);
        record.NetworkIP = ip;
      }
      this.store.write(record);
      return await this.store.lockedAsync(id, async () => {
        await this.launch(record, runtime);
        this.store.write(record);
        return record;
      });
    } catch (err) {
      try {
        /* under the lock: conmon's cleanup of a create that failed runs at the same time */
        this.store.locked(id, () => this.destroy(id));
      } catch {
        /* the create's error is the one to tell; rm -f removes what is left */
      }
      throw err;
    }
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
  private async launch(record: ContainerRecord, runtime = this.runtime(record.HostConfig.Runtime)): Promise<void> {
    const dir = this.store.dir(record.Id);
    const runDir = this.store.runDir(record.Id);
    const what = `create ${record.Name}`;
    /* a runtime state left by a container that died without cleanup */
    runtime.delete(record.Id);
    const merged = join(dir, 'merged');
    /* a restart may come before the last run's cleanup unmounted it */
    if (!isMountPoint(merged)) mountOverlay(this.images.paths, record.Layers, dir, what);
    const hostNetwork = record.HostConfig.NetworkMode === 'host';
    const network = this.networkOf(record.HostConfig.NetworkMode);
    /* a container that died without its cleanup still holds its last network */
    if (existsSync(this.netnsPath(record.Id))) this.detachQuietly(record);
    delete record.NetworkSettings;
    if (network) {
      record.NetworkSettings = await attach(
        {
          id: record.Id,
          name: record.Name,
          runDir,
          netns: this.netnsPath(record.Id),
          network,
          ports: record.HostConfig.PortBindings,
          aliases: record.NetworkAliases ?? [],
          ...(record.NetworkIP ? { ip: record.NetworkIP } : {}),
          dnsServers: record.HostConfig.Dns ?? [],
        },
        this.leases,
      );
    }
    try {
      /* on a user network the DNS server on its gateway answers for the containers' names
       * and forwards the rest (to --dns's servers when given) */
      const dns = record.HostConfig.Dns ?? [];
      const nameservers = network && hasDns(network) ? [network.gateway] : dns.length ? dns : undefined;
      await this.launchAttached(record, runtime, hostNetwork, nameservers);
    } catch (err) {
      if (network) this.detachQuietly(record);
      throw err;
    }
  }

  private async launchAttached(record: ContainerRecord, runtime: OciRuntime, hostNetwork: boolean, nameservers?: string[]): Promise<void> {
    const dir = this.store.dir(record.Id);
    const runDir = this.store.runDir(record.Id);
    const merged = join(dir, 'merged');
    const address = record.NetworkSettings?.IPAddress;
    const etc = writeEtcFiles(dir, {
      hostname: record.Config.Hostname,
      hostNetwork,
      ...(address ? { own: { address, name: record.Name } } : {}),
      ...(nameservers ? { nameservers } : {}),
      extraHosts: record.HostConfig.ExtraHosts ?? [],
    });
    const user = resolveUser(merged, record.Config.User);
    const volumes: VolumeResolver =
      this.opts.volumes ??
      ((name) => {
        throw new UserError(`volume ${name}: named volumes are not available here`, { kind: 'invalid', field: 'Binds' });
      });
    const mounts = ociMounts(requestedMounts(record.HostConfig), volumes);
    record.Mounts = mounts.points;
    const init = record.HostConfig.Init ? initProgram() : undefined;
    const netnsPath = record.NetworkSettings?.SandboxKey;
    const spec = ociConfig({
      record,
      rootfs: merged,
      etc,
      user,
      mounts: mounts.oci,
      ...(init ? { init } : {}),
      ...(netnsPath ? { netnsPath } : {}),
    });
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

  /** The container's network undone; a failure of netavark's teardown is told by rm, not
   * by the paths that must go on (a failed create, a cleanup). */
  private detachQuietly(record: ContainerRecord): void {
    try {
      detach(record.Id, this.store.runDir(record.Id), this.netnsPath(record.Id), this.leases);
    } catch {
      /* rm -f runs the teardown again */
    }
    delete record.NetworkSettings;
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
    return this.refreshed(this.store.read(id));
  }

  list(): ContainerRecord[] {
    const out: ContainerRecord[] = [];
    for (const id of this.store.ids()) {
      try {
        out.push(this.refreshed(this.store.read(id)));
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        /* a create killed before its record was written, or a record that cannot be read:
         * shown as dead, and rm -f removes it */
        out.push(this.deadRecord(id, err.message));
      }
    }
    return out;
  }

  private deadRecord(id: string, why: string): ContainerRecord {
    const host = defaultHostConfig();
    return {
      Id: id,
      Name: this.nameOf(id) ?? '',
      Created: '',
      Path: '',
      Args: [],
      Image: '',
      ImageName: '',
      State: { ...initialState(), Status: 'dead', Dead: true, Error: why },
      RestartCount: 0,
      Driver: 'overlay',
      Config: { ...mergeConfig({ Config: { Image: '', Cmd: ['?'] } }, {}, id), Cmd: [] },
      HostConfig: host,
      Mounts: [],
      Layers: [],
    };
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
    return this.store.lockedAsync(id, async () => {
      const record = this.refreshed(this.store.read(id));
      if (record.State.Status === 'running' || record.State.Status === 'paused') return record;
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
    });
  }

  private afterFailedStart(record: ContainerRecord, runtime: OciRuntime): void {
    this.detachQuietly(record);
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
  private destroy(id: string, record = this.tryRead(id)): void {
    const runtimes = record ? [record.HostConfig.Runtime] : [...RUNTIMES];
    for (const name of runtimes) {
      try {
        this.runtime(name).delete(id);
      } catch (err) {
        if (record) throw err;
      }
    }
    if (record?.Monitor && isAlive(record.Monitor.Pid, record.Monitor.StartTime)) {
      /* its container is gone: conmon exits by itself; wait a moment so nothing races */
      for (let i = 0; i < 100 && isAlive(record.Monitor.Pid, record.Monitor.StartTime); i++) sleepMs(10);
    }
    let networkFailure: unknown;
    try {
      detach(id, this.store.runDir(id), this.netnsPath(id), this.leases);
    } catch (err) {
      networkFailure = err;
    }
    unmountRoot(this.store.dir(id), id);
    const name = record?.Name ?? this.nameOf(id);
    if (name) this.store.releaseName(name, id);
    this.store.remove(id);
    if (networkFailure) throw networkFailure;
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
      this.detachQuietly(record);
      unmountRoot(this.store.dir(id), id);
      record.State.Pid = 0;
      delete record.Monitor;
      this.store.write(record);
      /* a create that failed (its command undoes it) or was killed (rm -f removes it) */
      if (record.State.Status !== 'exited') return false;
      if (record.HostConfig.AutoRemove) {
        this.keepExitCode(id, record.State.ExitCode);
        this.destroy(id, record);
        return false;
      }
      return shouldRestart(record);
    });
    if (!restart) return;
    await this.store.lockedAsync(id, async () => {
      const record = this.refreshed(this.store.read(id));
      if (record.State.Status !== 'exited' || !shouldRestart(record)) return;
      record.RestartCount++;
      this.store.write(record);
    });
    await this.start(id);
  }

  /** The exit code of a --rm container outlives it, for the `run` that waits on it. */
  private keepExitCode(id: string, code: number): void {
    const dir = join(this.opts.runRoot, 'exits');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(join(dir, id), String(code));
  }

  /** wait: until the container has exited (or, with --rm, is gone); its exit code. */
  async wait(text: string, opts: { removed?: boolean } = {}): Promise<number> {
    const id = this.resolve(text);
    const kept = join(this.opts.runRoot, 'exits', id);
    for (;;) {
      let record: ContainerRecord | undefined;
      try {
        record = this.refreshed(this.store.read(id));
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        const code = readText(kept).trim();
        rmSync(kept, { force: true });
        if (code !== '') return Number(code);
        throw err;
      }
      const s = record.State;
      const done = s.Status === 'exited' && s.Pid === 0 && !shouldRestart(record);
      if (done && !(opts.removed && record.HostConfig.AutoRemove)) return s.ExitCode;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
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
  if (host.NetworkMode.startsWith('container:'))
    throw bad('--network', 'container:NAME is not available yet (a network name, none or host)');
  if (host.Memory < 0) throw bad('--memory', 'must not be negative');
  if (host.Memory > 0 && host.Memory < 6 * 1024 * 1024) throw bad('--memory', 'the minimum is 6 MB');
  if (host.MemorySwap > 0 && host.MemorySwap < host.Memory) throw bad('--memory-swap', 'must be at least --memory');
  if (host.NanoCpus < 0) throw bad('--cpus', 'must not be negative');
  if (host.PidsLimit < -1) throw bad('--pids-limit', 'must be -1 (unlimited) or more');
}

/** --init's program: tini, static so that it runs in any image (docker ships it as
 * docker-init). */
function initProgram(): string {
  const found = findInPath('tini-static') ?? findInPath('docker-init');
  if (!found)
    throw new UserError('--init: no tini-static or docker-init on this host (Debian package tini)', { kind: 'invalid', field: 'Init' });
  return found;
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
