import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { NotFoundError, UserError } from '../../lib/errors.js';
import { isLocked } from '../../lib/lock.js';
import { findInPath, ownExecutable } from '../../lib/executables.js';
import { isAlive, readProcStat } from '../../lib/proc-stat.js';
import type { ImageConfig } from '../../oci/image/types.js';
import { findImage } from '../images/names.js';
import { AttachSocket, type OutputStream, resizeTerminal } from '../monitor/attach-socket.js';
import { recordedExit, startMonitor } from '../monitor/conmon.js';
import { OciRuntime, RUNTIMES, type RuntimeName } from '../runtime/oci-runtime.js';
import { isMountPoint, mountOverlay } from '../snapshots/overlay.js';
import { archiveSource, type CopyEnd, copyBetween, extractInto } from './copy.js';
import { exportRoot } from './export.js';
import { RootDir, normalInRoot } from './in-root.js';
import { mountVolumesForCopy } from './copy-mounts.js';
import { listProcesses, type ProcessList } from './processes.js';
import { type RuntimeStats, type StatsSample, sampleOf } from './stats.js';
import type { ImageStore } from '../store/store.js';
import { containerCapabilities } from './capabilities.js';
import {
  attach as attachNetwork,
  connect as connectEndpoint,
  detach as detachNetwork,
  disconnect as disconnectEndpoint,
} from '../network/attach.js';
import { DEFAULT_ALIASES, type NetworkConfig, SPECIAL_MODES } from '../network/config.js';
import { Leases } from '../network/leases.js';
import { publishAll } from '../network/ports.js';
import { NetworkStore, checkAddress } from '../network/store.js';
import {
  type ConnectOptions,
  connectedTo,
  connection,
  containerEndpoints,
  mainEndpointSettings,
  nameserversOf,
} from './connected-networks.js';
import { type EtcFiles, containerResolvConf, writeEtcFiles } from './etc-files.js';
import { type CreateRequest, defaultHostConfig, mergeConfig } from './merge-config.js';
import { anonymousVolumeName } from '../volumes/names.js';
import { containerMounts, ociMounts, requestedMounts, type VolumeResolver, withImageVolumes } from './mounts.js';
import { isContainerId } from './id.js';
import { checkJoinable, checkJoinRequest, JOIN_PREFIX, joinedName, peerEtcFiles, peerNetnsPath } from './joined-network.js';
import { generatedName, validateName } from './names.js';
import { ociConfig } from './oci-config.js';
import { type ContainerRecord, type HostConfig, type MountSpec, initialState } from './record.js';
import { EventJournal, containerAttributes } from '../events/journal.js';
import { unmountRoot } from './root-mount.js';
import { type ContainerSeccomp, containerSeccomp } from './seccomp/container-profile.js';
import { ContainerStore } from './store.js';
import { resolveUser } from './user.js';

export type { ConnectOptions } from './connected-networks.js';
export type { CreateRequest } from './merge-config.js';
export type { ProcessList } from './processes.js';
export type { ContainerStats, StatsSample } from './stats.js';

/** The host's side of a copy: a path, or a tar stream (docker cp's "-"). */
export type HostEnd = { path: string } | { stream: Readable } | { stream: Writable };

export interface CopyRequest {
  /** cp -a: owners as at the source; otherwise root in a container, the caller on the host */
  archive?: boolean;
  /** cp -L: follow a symlink that is the source itself */
  follow?: boolean;
  /** from a tar stream: a directory never replaces a non-directory */
  noOverwriteDirNonDir?: boolean;
}

export interface PruneReport {
  ContainersDeleted: string[];
  SpaceReclaimed: number;
}

export interface ContainersOptions {
  root: string;
  runRoot: string;
  /** volumes; without them, -v NAME:/path and images with VOLUMEs are refused */
  volumes?: VolumeResolver;
}

/** How long `wait` waits for the exit code of a container --rm removed. */
const GONE_WAIT_MS = 10_000;

const RESTART_POLICIES = ['', 'no', 'always', 'unless-stopped', 'on-failure'];

/** The engine's containers: create (the init waits on exec.fifo, watched by conmon), start,
 * stop, kill, remove, and the cleanup conmon runs when one exits. Every change to a
 * container is made holding its lock. */
export class Containers {
  readonly store: ContainerStore;
  readonly networks: NetworkStore;
  readonly leases = new Leases();
  readonly events: EventJournal;

  constructor(
    readonly images: ImageStore,
    readonly opts: ContainersOptions,
  ) {
    this.store = new ContainerStore(opts.root, opts.runRoot);
    this.networks = new NetworkStore(opts.root);
    this.events = new EventJournal(opts.runRoot);
  }

  /** A death the cleanup will not tell, as it will find the container gone (rm -f) or
   * running again (a start before it ran): running now, or exited with the monitor of that
   * run not yet cleared. */
  private noteDeathBeforeCleanup(record: ContainerRecord): void {
    const s = record.State.Status;
    if (s === 'running' || s === 'paused') this.note(record, 'die', { exitCode: '137' });
    else if (s === 'exited' && record.Monitor) this.note(record, 'die', { exitCode: String(record.State.ExitCode) });
  }

  /** A container's event in the journal (`GET /events`). */
  private note(record: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.events.record('container', action, record.Id, { ...containerAttributes(record), ...extra });
  }

  /** The network a network mode names; none for `none`, `host` and `container:`. */
  networkOf(mode: string): NetworkConfig | undefined {
    if (SPECIAL_MODES.includes(mode) || joinedName(mode) !== undefined) return undefined;
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
  async create(request: CreateRequest, opts: { warn?: (message: string) => void } = {}): Promise<ContainerRecord> {
    const host: HostConfig = { ...defaultHostConfig(), ...request.HostConfig };
    validateHostConfig(host);
    /* a bad profile is refused before anything is made */
    const security = seccompOf(host);
    if (security.warning !== undefined) opts.warn?.(security.warning);
    if (joinedName(host.NetworkMode) !== undefined) host.NetworkMode = this.joinMode(request, host);
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
    /* volumes this create made: a create that fails removes them */
    const madeVolumes: string[] = [];
    try {
      /* held from the directory's claim to the record's write: ps shows a directory without
       * a record, that no create holds, as a dead container that rm -f removes */
      const record = await this.store.lockedAsync(id, () =>
        this.createLocked(id, explicitName, request, image, imageConfig, host, runtime, { madeVolumes, security }),
      );
      this.note(record, 'create');
      return record;
    } catch (err) {
      try {
        /* under the lock: conmon's cleanup of a create that failed runs at the same time */
        await this.store.lockedAsync(id, () => this.destroy(id));
        this.opts.volumes?.removeIfUnused(madeVolumes);
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
    launch: { madeVolumes: string[]; security: ContainerSeccomp },
  ): Promise<ContainerRecord> {
    const name = this.claimName(explicitName, id);
    const config = mergeConfig(request, imageConfig.config ?? {}, id);
    const peerId = joinedName(host.NetworkMode);
    if (peerId !== undefined) config.Hostname = this.store.read(peerId).Config.Hostname;
    if (Object.keys(host.PortBindings).length)
      config.ExposedPorts = { ...config.ExposedPorts, ...Object.fromEntries(Object.keys(host.PortBindings).map((p) => [p, {}])) };
    const mounts = withImageVolumes(requestedMounts(host), config.Volumes);
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
      AnonymousVolumes: Object.fromEntries(
        mounts.filter((m) => m.Type === 'volume' && m.Source === '').map((m) => [m.Target, anonymousVolumeName()]),
      ),
    };
    const network = this.networkOf(host.NetworkMode);
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
    await this.launch(record, runtime, { fresh: true, ...launch });
    this.store.write(record);
    return record;
  }

  /** A join of another container's network checked, and named by that container's id, as
   * docker's inspect shows it. */
  private joinMode(request: CreateRequest, host: HostConfig): string {
    const endpoints = Object.values(request.NetworkingConfig?.EndpointsConfig ?? {});
    checkJoinRequest(host, {
      exposed: Object.keys(request.Config.ExposedPorts ?? {}).length > 0,
      aliases: endpoints.some((e) => e.Aliases?.length),
      ip: endpoints.some((e) => e.IPAMConfig?.IPv4Address),
      hostname: request.Config.Hostname !== undefined && request.Config.Hostname !== '',
    });
    return `${JOIN_PREFIX}${this.joinablePeer(host.NetworkMode).Id}`;
  }

  /** The running container a join mode names. */
  private joinablePeer(mode: string): ContainerRecord {
    let peer: ContainerRecord;
    try {
      peer = this.inspect(joinedName(mode) ?? '');
    } catch (err) {
      if (err instanceof NotFoundError)
        throw new UserError(`--network ${mode}: no such container`, { kind: 'not-found', field: 'NetworkMode' });
      throw err;
    }
    checkJoinable(peer, mode);
    return peer;
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
   * runtime's create. Called with the container's lock held. The first launch (create's,
   * `fresh`) lists the volumes it makes in `madeVolumes`, and fills empty ones from the image. */
  private async launch(
    record: ContainerRecord,
    runtime = this.runtime(record.HostConfig.Runtime),
    opts: { fresh?: boolean; madeVolumes?: string[]; security?: ContainerSeccomp } = {},
  ): Promise<void> {
    const { madeVolumes } = opts;
    const security = opts.security ?? seccompOf(record.HostConfig);
    const dir = this.store.dir(record.Id);
    const runDir = this.store.runDir(record.Id);
    const what = `create ${record.Name}`;
    /* a runtime state left by a container that died without cleanup; a new id has none,
     * and asking the runtime costs a process */
    if (!opts.fresh) runtime.delete(record.Id);
    /* before anything is mounted: a start whose other container is gone changes nothing */
    const peer = joinedName(record.HostConfig.NetworkMode) !== undefined ? this.joinablePeer(record.HostConfig.NetworkMode) : undefined;
    const joined = peer && { netns: peerNetnsPath(peer, this.netnsPath(peer.Id)), etc: peerEtcFiles(this.store.dir(peer.Id)) };
    const merged = join(dir, 'merged');
    /* a restart may come before the last run's cleanup unmounted it */
    if (!isMountPoint(merged)) mountOverlay(this.images.paths, record.Layers, dir, what);
    const hostNetwork = record.HostConfig.NetworkMode === 'host';
    const network = this.networkOf(record.HostConfig.NetworkMode);
    /* a container that died without its cleanup still holds its last network */
    if (existsSync(this.netnsPath(record.Id))) this.detachQuietly(record);
    delete record.NetworkSettings;
    const endpoints = network ? containerEndpoints(record, network, this.networks) : [];
    if (network) {
      record.NetworkSettings = await attachNetwork(
        {
          id: record.Id,
          name: record.Name,
          runDir,
          netns: this.netnsPath(record.Id),
          endpoints,
          /* published on NetworkMode's network: not while it is disconnected */
          ports: record.NetworkModeDisconnected ? {} : record.HostConfig.PortBindings,
          dnsServers: record.HostConfig.Dns ?? [],
        },
        this.leases,
      );
    }
    try {
      /* on a user network the DNS server on its gateway answers for the containers' names */
      const nameservers = nameserversOf(
        endpoints.map((e) => e.network),
        record.HostConfig.Dns ?? [],
      );
      await this.launchAttached(record, runtime, hostNetwork, nameservers, {
        ...(madeVolumes ? { madeVolumes } : {}),
        ...(joined ? { joined } : {}),
        security,
      });
    } catch (err) {
      if (network) this.detachQuietly(record);
      throw err;
    }
  }

  private async launchAttached(
    record: ContainerRecord,
    runtime: OciRuntime,
    hostNetwork: boolean,
    nameservers: string[] | undefined,
    opts: { madeVolumes?: string[]; security: ContainerSeccomp; joined?: { netns: string; etc: EtcFiles } },
  ): Promise<void> {
    const { madeVolumes, security, joined } = opts;
    const dir = this.store.dir(record.Id);
    const runDir = this.store.runDir(record.Id);
    const merged = join(dir, 'merged');
    const address = record.NetworkSettings?.IPAddress;
    const etc =
      joined?.etc ??
      writeEtcFiles(dir, {
        hostname: record.Config.Hostname,
        hostNetwork,
        ...(address ? { own: { address, name: record.Name } } : {}),
        ...(nameservers ? { nameservers } : {}),
        extraHosts: record.HostConfig.ExtraHosts ?? [],
      });
    const user = resolveUser(merged, record.Config.User);
    const anonymous = new Set(Object.values(record.AnonymousVolumes ?? {}));
    const volumeSource = (m: MountSpec): string => {
      const volumes = this.opts.volumes;
      if (!volumes)
        throw new UserError(`volume ${m.Source || m.Target}: volumes are not available here`, { kind: 'invalid', field: 'Binds' });
      const request = { name: m.Source, target: m.Target, anonymous: anonymous.has(m.Source), rootfs: merged };
      const { path, created } = volumes.mountSource({ ...request, copyUp: madeVolumes !== undefined && !m.VolumeOptions?.NoCopy });
      if (created) madeVolumes?.push(m.Source);
      return path;
    };
    const mounts = ociMounts(containerMounts(record), volumeSource);
    record.Mounts = mounts.points;
    const init = record.HostConfig.Init ? initProgram() : undefined;
    const { seccomp } = security;
    const netnsPath = joined?.netns ?? record.NetworkSettings?.SandboxKey;
    const spec = ociConfig({
      record,
      rootfs: merged,
      etc,
      user,
      mounts: mounts.oci,
      ...(init ? { init } : {}),
      ...(seccomp ? { seccomp } : {}),
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
      /* docker's rule: StdinOnce closes stdin when the attached client leaves, except on a
       * terminal, where a detach must not end the shell */
      leaveStdinOpen: record.Config.OpenStdin && !(record.Config.StdinOnce && !record.Config.Tty),
      exitCommand: [ownExecutable('raind'), '--root', this.opts.root, '--runroot', this.opts.runRoot, 'container', 'cleanup', record.Id],
    });
    const monitorPid = Number(readText(join(runDir, 'conmon.pid')).trim());
    record.State = { ...initialState(), Pid: pid, StartedAt: record.State.StartedAt, FinishedAt: record.State.FinishedAt };
    record.InitStartTime = readProcStat(pid)?.startTime ?? '';
    record.Monitor = { Pid: monitorPid, StartTime: readProcStat(monitorPid)?.startTime ?? '' };
  }

  /** A client of the container's attach socket (conmon's): output goes to onOutput, input
   * to the container's stdin when it was created with OpenStdin; `polled` for a server. */
  attach(id: string, onOutput: (stream: OutputStream, data: Buffer) => void, polled = false): AttachSocket {
    return AttachSocket.connect(join(this.opts.runRoot, 'socket', id, 'attach'), onOutput, polled);
  }

  /** The size of the container's terminal (Tty); false when its monitor is gone. */
  resizeTerminal(id: string, rows: number, cols: number): boolean {
    return resizeTerminal(join(this.store.dir(id), 'ctl'), rows, cols);
  }

  /** The container's network undone; a failure of netavark's teardown is told by rm, not
   * by the paths that must go on (a failed create, a cleanup). */
  private detachQuietly(record: ContainerRecord): void {
    try {
      detachNetwork(record.Id, this.store.runDir(record.Id), this.netnsPath(record.Id), this.leases);
    } catch {
      /* rm -f runs the teardown again */
    }
    delete record.NetworkSettings;
  }

  /** network connect: the container joins one more network, docker's POST
   * /networks/{id}/connect. One whose network is up (created, running) gets it at once, on
   * its next ethN; any other has it set up at its next start. */
  async connectNetwork(text: string, networkText: string, opts: ConnectOptions = {}): Promise<ContainerRecord> {
    const id = this.resolve(text);
    return this.store.lockedAsync(id, async () => {
      const record = this.refreshed(this.store.read(id));
      const network = this.networks.get(networkText);
      const { entry, primary } = connection(record, this.networkOf(record.HostConfig.NetworkMode), network, opts);
      const settings = record.NetworkSettings;
      if (record.State.Pid > 0 && settings) {
        const endpoint = { network, interfaceName: entry.Interface, aliases: entry.Aliases, ...(opts.ip ? { ip: opts.ip } : {}) };
        const made = await connectEndpoint(
          this.networkHolder(record),
          endpoint,
          this.leases,
          primary ? record.HostConfig.PortBindings : {},
        );
        settings.Networks[network.name] = made.endpoint;
        if (primary) Object.assign(settings, mainEndpointSettings(network.bridge, made.endpoint), { Ports: made.ports });
      }
      if (primary) {
        delete record.NetworkModeDisconnected;
        record.NetworkAliases = entry.Aliases;
        if (opts.ip) record.NetworkIP = opts.ip;
        else delete record.NetworkIP;
      } else record.ConnectedNetworks = { ...record.ConnectedNetworks, [network.name]: entry };
      this.store.write(record);
      this.updateResolvConf(record);
      this.events.record('network', 'connect', network.id, { name: network.name, type: 'bridge', container: record.Id });
      return record;
    });
  }

  /** network disconnect, docker's POST /networks/{id}/disconnect: a network goes (its
   * NetworkMode's too, with the ports published on it); `force` drops it even when
   * netavark's teardown fails. */
  async disconnectNetwork(text: string, networkText: string, force = false): Promise<ContainerRecord> {
    const id = this.resolve(text);
    return this.store.lockedAsync(id, async () => {
      const record = this.refreshed(this.store.read(id));
      const network = this.networks.get(networkText);
      const mode = record.HostConfig.NetworkMode;
      const own = SPECIAL_MODES.includes(mode) || joinedName(mode) !== undefined ? undefined : this.networkOfQuietly(record);
      const { name, primary } = connectedTo(record, own, network);
      if (record.NetworkSettings?.Networks[name] || existsSync(this.netnsPath(id))) {
        try {
          disconnectEndpoint(id, this.store.runDir(id), network, this.leases, force);
        } catch (err) {
          if (!force) throw err;
        }
        if (record.NetworkSettings) {
          delete record.NetworkSettings.Networks[name];
          if (primary) {
            const { GlobalIPv6Address, GlobalIPv6PrefixLen, IPv6Gateway, ...rest } = record.NetworkSettings;
            record.NetworkSettings = { ...rest, ...mainEndpointSettings('', undefined), Ports: {} };
          }
        }
      }
      if (primary) record.NetworkModeDisconnected = true;
      else {
        const { [name]: _gone, ...rest } = record.ConnectedNetworks ?? {};
        record.ConnectedNetworks = rest;
      }
      this.store.write(record);
      this.updateResolvConf(record);
      this.events.record('network', 'disconnect', network.id, { name: network.name, type: 'bridge', container: record.Id });
      return record;
    });
  }

  private networkHolder(record: ContainerRecord) {
    return {
      id: record.Id,
      name: record.Name,
      runDir: this.store.runDir(record.Id),
      netns: this.netnsPath(record.Id),
      dnsServers: record.HostConfig.Dns ?? [],
    };
  }

  private networkOfQuietly(record: ContainerRecord): NetworkConfig | undefined {
    try {
      return this.networkOf(record.HostConfig.NetworkMode);
    } catch {
      return undefined;
    }
  }

  /** A running container's resolv.conf (bind mounted from its etc/, written in place) names
   * the DNS servers of the networks it is on now. */
  private updateResolvConf(record: ContainerRecord): void {
    if (record.State.Pid === 0 || !record.NetworkSettings) return;
    const networks = Object.values(record.NetworkSettings.Networks).flatMap((e) => {
      try {
        return [this.networks.get(e.NetworkID)];
      } catch {
        return [];
      }
    });
    const nameservers = nameserversOf(networks, record.HostConfig.Dns ?? []);
    let host = '';
    try {
      host = readFileSync('/etc/resolv.conf', 'utf8');
    } catch {}
    writeFileSync(join(this.store.dir(record.Id), 'etc', 'resolv.conf'), containerResolvConf(host, false, nameservers));
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
      if (!(err instanceof UserError)) throw err;
      /* a record that cannot be read is as good as none */
      if (!(err instanceof NotFoundError)) return deadRecord(id, this.nameOf(id) ?? '', this.store.dir(id));
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

  /** start: the runtime's start, after a new create when the container ran before.
   * beforeStart runs once the monitor is up and the init waits: an attached client
   * connects there so that it misses no output. */
  async start(text: string, beforeStart?: (record: ContainerRecord) => void): Promise<ContainerRecord> {
    const id = this.resolve(text);
    return this.store.lockedAsync(id, () => this.startLocked(id, false, beforeStart));
  }

  /** start, with the container's lock held; `restart` counts it as a restart, in the
   * record written once it runs. */
  private async startLocked(id: string, restart = false, beforeStart?: (record: ContainerRecord) => void): Promise<ContainerRecord> {
    const record = this.refreshed(this.store.read(id));
    if (record.State.Status === 'running' || record.State.Status === 'paused') return record;
    this.noteDeathBeforeCleanup(record);
    if (restart) record.RestartCount++;
    const runtime = this.runtime(record.HostConfig.Runtime);
    if (record.State.Pid === 0) await this.launch(record, runtime);
    try {
      beforeStart?.(record);
      runtime.start(id);
    } catch (err) {
      this.afterFailedStart(record, runtime);
      throw err;
    }
    record.State = { ...record.State, Status: 'running', Running: true, StartedAt: new Date().toISOString() };
    record.StoppedByUser = false;
    this.store.write(record);
    this.note(record, 'start');
    return record;
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
    const record = await this.store.lockedAsync(id, async () => {
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
    /* until conmon has recorded the exit the container counts as running: a start (restart)
     * right away would take it for running and do nothing */
    const runDir = this.store.runDir(id);
    for (let i = 0; i < 200 && record.Monitor && isAlive(record.Monitor.Pid, record.Monitor.StartTime) && !recordedExit(runDir); i++)
      await new Promise((r) => setTimeout(r, 10));
    this.note(record, 'stop');
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
  async kill(text: string, signal: string): Promise<ContainerRecord> {
    const id = this.resolve(text);
    return this.store.lockedAsync(id, async () => {
      const record = this.refreshed(this.store.read(id));
      if (record.State.Status !== 'running' && record.State.Status !== 'paused')
        throw new UserError(`cannot kill container ${record.Name}: it is not running`, { kind: 'conflict' });
      this.runtime(record.HostConfig.Runtime).kill(id, signal.replace(/^SIG/, ''));
      this.note(record, 'kill', { signal: signal.replace(/^SIG/, '') });
      if (/^(SIG)?KILL$|^9$/.test(signal)) {
        record.StoppedByUser = true;
        this.store.write(record);
      }
      return record;
    });
  }

  pause(text: string): Promise<ContainerRecord> {
    return this.changeRunning(text, 'pause');
  }

  unpause(text: string): Promise<ContainerRecord> {
    return this.changeRunning(text, 'unpause');
  }

  private changeRunning(text: string, what: 'pause' | 'unpause'): Promise<ContainerRecord> {
    const id = this.resolve(text);
    return this.store.lockedAsync(id, async () => {
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
      this.note(record, what);
      return record;
    });
  }

  /** rm: a running container only with force; then everything of it goes: the runtime's
   * state, the monitor, the root's mount, the directories, the name; with `volumes` (rm -v)
   * its anonymous volumes too. */
  async remove(text: string, force = false, volumes = false): Promise<string> {
    const id = this.resolve(text);
    return this.store.lockedAsync(id, async () => {
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
      if (record) this.noteDeathBeforeCleanup(record);
      await this.destroy(id, record);
      if (volumes && record) this.removeAnonymousVolumes(record);
      return id;
    });
  }

  /** A removed container's anonymous volumes, unless another container uses them. */
  private removeAnonymousVolumes(record: ContainerRecord): void {
    this.opts.volumes?.removeIfUnused(Object.values(record.AnonymousVolumes ?? {}));
  }

  /** Removes whatever exists of a container; works on what a killed command left. */
  private async destroy(id: string, record = this.tryRead(id), opts: { runtimeDeleted?: boolean } = {}): Promise<void> {
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
      for (let i = 0; i < 100 && isAlive(Pid, StartTime) && !recordedExit(runDir); i++) await new Promise((r) => setTimeout(r, 10));
    }
    let networkFailure: unknown;
    try {
      detachNetwork(id, this.store.runDir(id), this.netnsPath(id), this.leases);
    } catch (err) {
      networkFailure = err;
    }
    unmountRoot(this.store.dir(id), id);
    const name = record?.Name ?? this.nameOf(id);
    if (name) this.store.releaseName(name, id);
    this.store.remove(id);
    if (record) this.note(record, 'destroy');
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
      if (record.State.Status === 'exited') this.note(record, 'die', { exitCode: String(record.State.ExitCode) });
      /* a create that failed (its command undoes it) or was killed (rm -f removes it) */
      if (record.State.Status !== 'exited') return false;
      if (record.HostConfig.AutoRemove) {
        await this.destroy(id, record, { runtimeDeleted: true });
        /* docker's --rm takes the anonymous volumes with the container */
        this.removeAnonymousVolumes(record);
        /* last: a `run --rm` waiting for the code returns once everything is gone */
        this.keepExitCode(id, record.State.ExitCode);
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

  /** Runs fn with the container's root (merged/) mounted, holding its lock: a stopped
   * container's root is mounted for it, and unmounted after unless it was mounted before.
   * `livePath`: the container path the work is about (see below). */
  async withRoot<T>(text: string, fn: (root: string, record: ContainerRecord) => Promise<T>, opts: { livePath?: string } = {}): Promise<T> {
    const id = this.resolve(text);
    return this.store.lockedAsync(id, async () => {
      const record = this.refreshed(this.store.read(id));
      const { Pid } = record.State;
      /* a path in a container's volume or bind is read and written where they are mounted,
       * as docker's cp does (merged/ has only what they hide): in the view of its init (a
       * created or running container), or on merged/ for the copy (a stopped one); other
       * paths in merged/, without the container's /proc, /sys and /dev */
      const live = opts.livePath !== undefined && inMountOf(record, opts.livePath);
      /* an init still in the host's root (before its pivot) has no view of its own yet */
      const hasInit = Pid > 0 && isAlive(Pid, record.InitStartTime ?? '') && !isHostRoot(`/proc/${Pid}/root`);
      if (live && hasInit) return fn(`/proc/${Pid}/root`, record);
      const dir = this.store.dir(id);
      const merged = join(dir, 'merged');
      const wasMounted = isMountPoint(merged);
      if (!wasMounted) mountOverlay(this.images.paths, record.Layers, dir, `mount the root of ${record.Name}`);
      try {
        /* stopped: its volumes and binds, on its root for the copy */
        const unmountVolumes = live && !hasInit ? mountVolumesForCopy(record, merged) : () => {};
        try {
          return await fn(merged, record);
        } finally {
          unmountVolumes();
        }
      } finally {
        if (!wasMounted) unmountRoot(dir, id);
      }
    });
  }

  /** cp CONTAINER:PATH to a host path, or as a tar to a stream. Every path of the container
   * is resolved inside its root (in-root.ts); a running container's is its own view. */
  async copyFrom(text: string, path: string, to: HostEnd, request: CopyRequest = {}): Promise<void> {
    await this.withCopyRoots(text, path, async (root, host) => {
      const src: CopyEnd = { root, path };
      const follow = request.follow === true;
      if ('stream' in to) await archiveSource(src, to.stream as Writable, { follow });
      else {
        const owner = request.archive ? undefined : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
        await copyBetween(src, { root: host, path: absoluteHostPath(to.path) }, { follow, ...(owner ? { owner } : {}) });
      }
    });
  }

  /** cp a host path (or a tar from a stream) to CONTAINER:PATH. */
  async copyTo(text: string, path: string, from: HostEnd, request: CopyRequest = {}): Promise<void> {
    await this.withCopyRoots(text, path, async (root, host) => {
      const dest: CopyEnd = { root, path };
      const owner = request.archive ? undefined : { uid: 0, gid: 0 };
      const opts = {
        follow: request.follow === true,
        ...(owner ? { owner } : {}),
        noOverwriteDirNonDir: request.noOverwriteDirNonDir === true,
      };
      if ('stream' in from) await extractInto(from.stream as Readable, dest, opts);
      else await copyBetween({ root: host, path: absoluteHostPath(from.path) }, dest, opts);
    });
  }

  /** fn with the container's root (see withRoot: the view `path` is in) and the host's. */
  private async withCopyRoots(text: string, path: string, fn: (root: RootDir, host: RootDir) => Promise<void>): Promise<void> {
    await this.withRoot(
      text,
      async (view) => {
        const root = new RootDir(view);
        const host = new RootDir('/');
        try {
          await fn(root, host);
        } finally {
          root.close();
          host.close();
        }
      },
      { livePath: path },
    );
  }

  /** export: a tar of the container's root filesystem, its merged view. */
  async exportTo(text: string, out: Writable): Promise<void> {
    await this.withRoot(text, (merged) => exportRoot(merged, out));
  }

  /** top: the container's processes as the host's ps shows them. */
  top(text: string, psOptions: string[] = []): ProcessList {
    const record = this.inspect(text);
    if (record.State.Status !== 'running' && record.State.Status !== 'paused')
      throw new UserError(`container ${record.Name} is not running`, { kind: 'conflict' });
    const pids = this.runtime(record.HostConfig.Runtime).pids(record.Id);
    return listProcesses(pids, psOptions);
  }

  /** One reading of the container's counters (zeros when it is not running): two of them
   * make the CPU % (statsBetween). */
  statsSample(text: string): StatsSample {
    const record = this.inspect(text);
    const running = record.State.Status === 'running' || record.State.Status === 'paused';
    const stats = running ? (this.runtime(record.HostConfig.Runtime).stats(record.Id) as RuntimeStats | undefined) : undefined;
    return sampleOf(record.Id, record.Name, stats, running ? record.State.Pid : 0);
  }

  /** rename: the new name's link is claimed first, so a name in use is refused before
   * anything changes. */
  async rename(text: string, newName: string): Promise<ContainerRecord> {
    const name = validateName(newName.startsWith('/') ? newName.slice(1) : newName);
    const id = this.resolve(text);
    return this.store.lockedAsync(id, async () => {
      const record = this.store.read(id);
      if (record.Name === name) throw new UserError(`rename: the container is already named ${name}`, { kind: 'conflict', field: 'name' });
      this.store.claimName(name, id);
      const old = record.Name;
      record.Name = name;
      this.store.write(record);
      this.store.releaseName(old, id);
      this.note(record, 'rename', { oldName: old });
      return record;
    });
  }

  /** container prune: removes every container that is not running (exited or created);
   * what their writable layers and logs held is the space reclaimed. */
  async prune(): Promise<PruneReport> {
    const report: PruneReport = { ContainersDeleted: [], SpaceReclaimed: 0 };
    for (const record of this.list()) {
      if (record.State.Status === 'running' || record.State.Status === 'paused' || record.State.Status === 'restarting') continue;
      const dir = this.store.dir(record.Id);
      const size = diskUsage(join(dir, 'diff')) + diskUsage(this.logPath(record.Id));
      try {
        await this.store.lockedAsync(record.Id, async () => {
          const now = this.refreshed(this.store.read(record.Id));
          if (now.State.Status === 'running' || now.State.Status === 'paused') return;
          await this.destroy(record.Id, now);
          report.ContainersDeleted.push(record.Id);
          report.SpaceReclaimed += size;
        });
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    return report;
  }

  /** The exit code a removed --rm container left; its cleanup writes it once everything
   * else is gone, so it is waited for a moment. */
  private async takeKeptExit(id: string): Promise<number | undefined> {
    const kept = join(this.opts.runRoot, 'exits', id);
    let code = readText(kept).trim();
    for (let waited = 0; code === '' && waited < GONE_WAIT_MS; waited += 25) {
      await new Promise((r) => setTimeout(r, 25));
      code = readText(kept).trim();
    }
    if (code === '') return undefined;
    for (let i = 0; i < 500 && (existsSync(this.store.dir(id)) || existsSync(this.store.runDir(id))); i++)
      await new Promise((r) => setTimeout(r, 10));
    rmSync(kept, { force: true });
    return Number(code);
  }

  /** wait: until the container has exited (or, with --rm, is gone); its exit code. A caller
   * that goes away (an API client) aborts it through `signal`. */
  async wait(text: string, opts: { removed?: boolean; signal?: AbortSignal } = {}): Promise<number> {
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
      /* a --rm container that exited is removed here rather than once conmon's exit command
       * has started (a process of its own); whichever takes the lock first does it, as a
       * foreground `raind run --rm` does */
      if (opts.removed && record.HostConfig.AutoRemove && s.Status === 'exited' && !shouldRestart(record)) {
        try {
          await this.cleanup(id);
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
        }
        continue;
      }
      const done = s.Status === 'exited' && s.Pid === 0 && !shouldRestart(record);
      if (done && !(opts.removed && record.HostConfig.AutoRemove)) return s.ExitCode;
      opts.signal?.throwIfAborted();
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

function seccompOf(host: HostConfig): ContainerSeccomp {
  const capabilities = containerCapabilities(host.CapAdd, host.CapDrop, host.Privileged);
  return containerSeccomp({ securityOpt: host.SecurityOpt, privileged: host.Privileged, capabilities });
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

/** A host path as the copy code takes it: absolute, with what its end says (a trailing "/"
 * or "/.") kept. */
function absoluteHostPath(path: string): string {
  return isAbsolute(path) ? path : `${process.cwd()}/${path}`;
}

/** The bytes of the files under path (or of the file), symlinks not followed. */
function diskUsage(path: string): number {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  let total = 0;
  for (const name of readdirSync(path)) total += diskUsage(join(path, name));
  return total;
}

/** Whether a container path lies in one of the container's volumes, binds or tmpfs mounts. */
function inMountOf(record: ContainerRecord, path: string): boolean {
  const inRoot = normalInRoot(path);
  return record.Mounts.some((m) => m.Destination !== '/' && (inRoot === m.Destination || inRoot.startsWith(`${m.Destination}/`)));
}

/** Whether a path is this host's root directory (the same inode on the same device). */
function isHostRoot(path: string): boolean {
  try {
    const a = statSync(path);
    const b = statSync('/');
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return true;
  }
}
