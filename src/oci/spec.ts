import type { Resources } from './resources.js';

export type { DeviceRule } from './resources.js';

/** The parts of the OCI runtime-spec config (config.md, config-linux.md) droplet reads,
 * after validation: required fields are present, optional ones may be undefined. */

export interface Spec {
  ociVersion: string;
  hooks: Hooks;
  root: { path: string; readonly: boolean };
  mounts: Mount[];
  process: Process;
  hostname?: string;
  domainname?: string;
  annotations: Record<string, string>;
  linux: Linux;
}

export interface Mount {
  destination: string;
  type?: string;
  source?: string;
  options: string[];
}

export interface Process {
  terminal: boolean;
  user: { uid: number; gid: number; umask?: number; additionalGids: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: Capabilities;
  rlimits: Rlimit[];
  noNewPrivileges: boolean;
  oomScoreAdj?: number;
  apparmorProfile?: string;
  selinuxLabel?: string;
  ioPriority?: { class: 'IOPRIO_CLASS_RT' | 'IOPRIO_CLASS_BE' | 'IOPRIO_CLASS_IDLE'; priority: number };
  scheduler?: Scheduler;
  consoleSize?: { height: number; width: number };
}

export interface Scheduler {
  policy: string;
  nice: number;
  priority: number;
  flags: string[];
  runtime: number;
  deadline: number;
  period: number;
}

export interface Hook {
  path: string;
  args: string[];
  env: string[];
  /** seconds */
  timeout?: number;
}

export const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
export type HookKind = (typeof HOOK_KINDS)[number];
export type Hooks = Record<HookKind, Hook[]>;

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface Capabilities {
  bounding: string[];
  effective: string[];
  inheritable: string[];
  permitted: string[];
  ambient: string[];
}

export interface Rlimit {
  type: string;
  /** 64 bits: RLIM_INFINITY is 2^64 - 1 */
  soft: bigint;
  hard: bigint;
}

export const NAMESPACE_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

export interface Namespace {
  type: NamespaceType;
  path?: string;
}

export interface Device {
  type: 'c' | 'b' | 'u' | 'p';
  path: string;
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

export interface Linux {
  namespaces: Namespace[];
  devices: Device[];
  cgroupsPath?: string;
  resources: Resources;
  rootfsPropagation?: string;
  maskedPaths: string[];
  readonlyPaths: string[];
  uidMappings: IdMapping[];
  gidMappings: IdMapping[];
  /** clock name (monotonic, boottime) -> offset */
  timeOffsets: Record<string, { secs: number; nanosecs: number }>;
  sysctl: Record<string, string>;
  personality?: { domain: 'LINUX' | 'LINUX32' };
  /** the raw linux.seccomp object, compiled when the plan is built */
  seccomp?: unknown;
  /** SELinux label of the container's mounts: accepted only where SELinux is enabled */
  mountLabel?: string;
}
