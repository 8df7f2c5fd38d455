import type { NetworkSettings } from '../network/settings.js';
import type { PortBindings } from '../network/ports.js';

/** A container as the engine keeps it, in docker's inspect shape so that `inspect` (and the
 * API) show it as it is: `<root>/containers/<id>/container.json`. */

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
}

/** The part of docker's container Config the engine uses. */
export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, object>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[];
  Image: string;
  Volumes?: Record<string, object>;
  WorkingDir: string;
  Entrypoint: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount: number;
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

/** docker's --mount, and what -v and --tmpfs become. */
export interface MountSpec {
  Type: 'bind' | 'volume' | 'tmpfs';
  Source: string;
  Target: string;
  ReadOnly: boolean;
  /** tmpfs: size in bytes and mode */
  TmpfsOptions?: { SizeBytes?: number; Mode?: number /** as given to --tmpfs */; Options?: string };
  BindOptions?: { Propagation?: string };
  /** NoCopy: the volume is not filled from the image (`-v name:/path:nocopy`) */
  VolumeOptions?: { NoCopy?: boolean };
}

/** The part of docker's HostConfig the engine uses. */
export interface HostConfig {
  Binds: string[];
  Mounts: MountSpec[];
  Tmpfs: Record<string, string>;
  /** a network's name, `none` or `host` */
  NetworkMode: string;
  /** docker's -p: "80/tcp" -> [{HostIp, HostPort}] */
  PortBindings: PortBindings;
  RestartPolicy: RestartPolicy;
  AutoRemove: boolean;
  CapAdd: string[];
  CapDrop: string[];
  Privileged: boolean;
  ReadonlyRootfs: boolean;
  SecurityOpt: string[];
  Memory: number;
  MemorySwap: number;
  NanoCpus: number;
  CpuShares: number;
  PidsLimit: number;
  Ulimits: Ulimit[];
  Init: boolean;
  Runtime: string;
  /** [height, width] of the terminal at create, as docker's CLI sends its own (Tty) */
  ConsoleSize?: [number, number];
  /** --dns */
  Dns?: string[];
  /** --add-host: "NAME:ADDRESS" */
  ExtraHosts?: string[];
  /** -P: every exposed port on a free host port */
  PublishAllPorts?: boolean;
}

/** A mount as inspect shows it. */
export interface MountPoint {
  Type: string;
  Name?: string;
  Driver?: string;
  Source: string;
  Destination: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/** A network joined with `network connect`: its interface in the container is eth1, eth2… */
export interface ConnectedNetwork {
  NetworkID: string;
  Interface: string;
  Aliases: string[];
  IPv4Address?: string;
}

export interface ContainerRecord {
  Id: string;
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  /** the image's id (its config digest) */
  Image: string;
  /** the image as the user named it */
  ImageName: string;
  State: ContainerState;
  RestartCount: number;
  Driver: 'overlay';
  Config: ContainerConfig;
  HostConfig: HostConfig;
  Mounts: MountPoint[];
  /** the image's layers (chain IDs, lowest first): the container's root holds on to them */
  Layers: string[];
  /** the container's anonymous volumes (`-v /path`, the image's VOLUMEs), by mount point:
   * named at create, so that every start mounts the same ones */
  AnonymousVolumes?: Record<string, string>;
  /** --network-alias: the names it also has on its network */
  NetworkAliases?: string[];
  /** --ip: the address asked for on its network */
  NetworkIP?: string;
  /** the networks `network connect` added to NetworkMode's, by name: set up with it at
   * each start */
  ConnectedNetworks?: Record<string, ConnectedNetwork>;
  /** NetworkMode's network was taken off with `network disconnect` (docker keeps the mode):
   * not set up, its ports not published, until `network connect` gives it back */
  NetworkModeDisconnected?: boolean;
  /** the container's network while it runs */
  NetworkSettings?: NetworkSettings;
  /** the monitor (conmon) while the container runs, with its start time (pid reuse) */
  Monitor?: { Pid: number; StartTime: string };
  /** the init's start time, to tell it from a later process with its pid */
  InitStartTime?: string;
  /** stop or kill by a user: the restart policy does not apply (docker's rule) */
  StoppedByUser?: boolean;
}

export function initialState(): ContainerState {
  return {
    Status: 'created',
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 0,
    Error: '',
    StartedAt: '0001-01-01T00:00:00Z',
    FinishedAt: '0001-01-01T00:00:00Z',
  };
}
