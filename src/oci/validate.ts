import { isAbsolute, join, posix } from 'node:path';
import {
  HOOK_KINDS,
  NAMESPACE_TYPES,
  type Capabilities,
  type Device,
  type Hook,
  type Hooks,
  type IdMapping,
  type Linux,
  type Mount,
  type Namespace,
  type NamespaceType,
  type Process,
  type Rlimit,
  type Scheduler,
  type Spec,
} from './spec.js';
import {
  asInt64,
  asInteger,
  asObject,
  asString,
  invalid,
  optArray,
  optBool,
  optInteger,
  optObject,
  optString,
  optStrings,
  refuseIfSet,
  UINT32_MAX,
  UINT64_MAX,
  type Obj,
} from '../lib/json-reader.js';
import { readResources } from './resources.js';

/** Validates a parsed config.json and applies its defaults, or throws a UserError naming the
 * field. It reads no file and asks nothing of the host (whether root.path exists, whether an
 * LSM is enabled): the runtime checks those before it uses the result. A relative root.path
 * is taken from bundle. */
export function validateSpec(raw: unknown, bundle: string): Spec {
  const o = asObject(raw, '(top level)');
  const ociVersion = optString(o, 'ociVersion', '') ?? '';
  if (ociVersion && !/^1\./.test(ociVersion)) throw invalid('ociVersion', `unsupported version "${ociVersion}"`);
  refuseIfSet(o, 'vm', '');
  const linux = readLinux(optObject(o, 'linux', '') ?? {});
  const spec: Spec = {
    ociVersion,
    hooks: readHooks(o),
    root: readRoot(o, bundle),
    mounts: (optArray(o, 'mounts', '') ?? []).map((m, i) => readMount(m, `mounts[${i}]`)),
    process: readProcess(o),
    hostname: optString(o, 'hostname', ''),
    domainname: optString(o, 'domainname', ''),
    annotations: readAnnotations(o),
    linux,
  };
  const ns = new Set(linux.namespaces.map((n) => n.type));
  if (spec.hostname && !ns.has('uts')) throw invalid('hostname', 'needs a new uts namespace (linux.namespaces)');
  if (spec.domainname && !ns.has('uts')) throw invalid('domainname', 'needs a new uts namespace (linux.namespaces)');
  if (!ns.has('mount')) checkHostMountNamespace(spec);
  checkNamespaceNeeds(spec, ns);
  return spec;
}

function readRoot(o: Obj, bundle: string): Spec['root'] {
  const root = optObject(o, 'root', '');
  if (!root) throw invalid('root', 'is required');
  const p = optString(root, 'path', 'root.');
  if (!p) throw invalid('root.path', 'is required');
  const path = isAbsolute(p) ? p : join(bundle, p);
  return { path, readonly: optBool(root, 'readonly', 'root.') ?? false };
}

function readMount(v: unknown, path: string): Mount {
  const m = asObject(v, path);
  const destination = optString(m, 'destination', `${path}.`);
  if (!destination) throw invalid(`${path}.destination`, 'is required');
  if (!destination.startsWith('/')) throw invalid(`${path}.destination`, `"${destination}" is not an absolute path`);
  refuseIfSet(m, 'uidMappings', `${path}.`);
  refuseIfSet(m, 'gidMappings', `${path}.`);
  return {
    destination: posix.normalize(destination),
    type: optString(m, 'type', `${path}.`),
    source: optString(m, 'source', `${path}.`),
    options: optStrings(m, 'options', `${path}.`) ?? [],
  };
}

export function readProcess(o: Obj): Process {
  const p = optObject(o, 'process', '');
  if (!p) throw invalid('process', 'is required');
  const terminal = optBool(p, 'terminal', 'process.') ?? false;
  refuseIfSet(p, 'execCPUAffinity', 'process.');
  const args = optStrings(p, 'args', 'process.');
  if (!args || args.length === 0) throw invalid('process.args', 'must name the program to run');
  if (args[0] === '') throw invalid('process.args[0]', 'is empty');
  const cwd = optString(p, 'cwd', 'process.');
  if (!cwd) throw invalid('process.cwd', 'is required');
  if (!cwd.startsWith('/')) throw invalid('process.cwd', `"${cwd}" is not an absolute path`);
  const env = optStrings(p, 'env', 'process.') ?? [];
  env.forEach((e, i) => {
    if (!e.includes('=')) throw invalid(`process.env[${i}]`, `"${e}" is not KEY=VALUE`);
  });
  const u = optObject(p, 'user', 'process.') ?? {};
  const user = {
    uid: optInteger(u, 'uid', 'process.user.', 0, UINT32_MAX - 1) ?? 0,
    gid: optInteger(u, 'gid', 'process.user.', 0, UINT32_MAX - 1) ?? 0,
    umask: optInteger(u, 'umask', 'process.user.', 0, 0o777),
    additionalGids: (optArray(u, 'additionalGids', 'process.user.') ?? []).map((g, i) =>
      asInteger(g, `process.user.additionalGids[${i}]`, 0, UINT32_MAX - 1),
    ),
  };
  return {
    terminal,
    user,
    args,
    env,
    cwd: posix.normalize(cwd),
    capabilities: readCapabilities(p),
    rlimits: (optArray(p, 'rlimits', 'process.') ?? []).map((r, i) => readRlimit(r, `process.rlimits[${i}]`)),
    noNewPrivileges: optBool(p, 'noNewPrivileges', 'process.') ?? false,
    oomScoreAdj: optInteger(p, 'oomScoreAdj', 'process.', -1000, 1000),
    apparmorProfile: optString(p, 'apparmorProfile', 'process.') || undefined,
    selinuxLabel: optString(p, 'selinuxLabel', 'process.') || undefined,
    ioPriority: readIoPriority(p),
    scheduler: readScheduler(p),
    consoleSize: readConsoleSize(p),
  };
}

function readIoPriority(p: Obj): Process['ioPriority'] {
  const io = optObject(p, 'ioPriority', 'process.');
  if (!io) return undefined;
  const cls = asString(io.class, 'process.ioPriority.class');
  if (!['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE'].includes(cls))
    throw invalid('process.ioPriority.class', `unknown class "${cls}"`);
  return {
    class: cls as NonNullable<Process['ioPriority']>['class'],
    priority: optInteger(io, 'priority', 'process.ioPriority.', 0, 7) ?? 0,
  };
}

const SCHED_POLICIES = ['SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE'];
const SCHED_FLAGS = [
  'SCHED_FLAG_RESET_ON_FORK',
  'SCHED_FLAG_RECLAIM',
  'SCHED_FLAG_DL_OVERRUN',
  'SCHED_FLAG_KEEP_POLICY',
  'SCHED_FLAG_KEEP_PARAMS',
  'SCHED_FLAG_UTIL_CLAMP_MIN',
  'SCHED_FLAG_UTIL_CLAMP_MAX',
];

function readScheduler(p: Obj): Scheduler | undefined {
  const s = optObject(p, 'scheduler', 'process.');
  if (!s) return undefined;
  const path = 'process.scheduler.';
  const policy = asString(s.policy, `${path}policy`);
  if (!SCHED_POLICIES.includes(policy)) throw invalid(`${path}policy`, `unknown policy "${policy}"`);
  if (policy === 'SCHED_ISO') throw invalid(`${path}policy`, 'SCHED_ISO is not implemented by Linux');
  const flags = optStrings(s, 'flags', path) ?? [];
  flags.forEach((f, i) => {
    if (!SCHED_FLAGS.includes(f)) throw invalid(`${path}flags[${i}]`, `unknown flag "${f}"`);
  });
  const u64 = (k: string) => optInteger(s, k, path, 0, Number.MAX_SAFE_INTEGER) ?? 0;
  return {
    policy,
    flags,
    nice: optInteger(s, 'nice', path, -20, 19) ?? 0,
    priority: optInteger(s, 'priority', path, 0, 99) ?? 0,
    runtime: u64('runtime'),
    deadline: u64('deadline'),
    period: u64('period'),
  };
}

function readConsoleSize(p: Obj): Process['consoleSize'] {
  const c = optObject(p, 'consoleSize', 'process.');
  if (!c) return undefined;
  return {
    height: optInteger(c, 'height', 'process.consoleSize.', 0, 65535) ?? 0,
    width: optInteger(c, 'width', 'process.consoleSize.', 0, 65535) ?? 0,
  };
}

function readHooks(o: Obj): Hooks {
  const h = optObject(o, 'hooks', '') ?? {};
  const out = {} as Hooks;
  for (const kind of HOOK_KINDS) {
    out[kind] = (optArray(h, kind, 'hooks.') ?? []).map((v, i): Hook => {
      const path = `hooks.${kind}[${i}]`;
      const hook = asObject(v, path);
      const file = asString(hook.path, `${path}.path`);
      if (!isAbsolute(file)) throw invalid(`${path}.path`, `"${file}" is not an absolute path`);
      return {
        path: file,
        args: optStrings(hook, 'args', `${path}.`) ?? [file],
        env: optStrings(hook, 'env', `${path}.`) ?? [],
        timeout: optInteger(hook, 'timeout', `${path}.`, 1, 2 ** 31 - 1),
      };
    });
  }
  return out;
}

function readCapabilities(p: Obj): Capabilities | undefined {
  const c = optObject(p, 'capabilities', 'process.');
  if (!c) return undefined;
  const set = (k: keyof Capabilities) => optStrings(c, k, 'process.capabilities.') ?? [];
  return {
    bounding: set('bounding'),
    effective: set('effective'),
    inheritable: set('inheritable'),
    permitted: set('permitted'),
    ambient: set('ambient'),
  };
}

function readRlimit(v: unknown, path: string): Rlimit {
  const r = asObject(v, path);
  const type = optString(r, 'type', `${path}.`);
  if (!type) throw invalid(`${path}.type`, 'is required');
  const limit = (k: string) => {
    const x = r[k];
    if ((typeof x !== 'number' || !Number.isInteger(x)) && typeof x !== 'bigint')
      throw invalid(`${path}.${k}`, 'expected a non-negative integer');
    if (x < 0) throw invalid(`${path}.${k}`, 'expected a non-negative integer');
    return BigInt(asInt64(x, `${path}.${k}`, 0n, UINT64_MAX));
  };
  const soft = limit('soft');
  const hard = limit('hard');
  if (soft > hard) throw invalid(path, `soft limit ${soft} is above the hard limit ${hard}`);
  return { type, soft, hard };
}

function readAnnotations(o: Obj): Record<string, string> {
  const a = optObject(o, 'annotations', '') ?? {};
  const out: Record<string, string> = {};
  /* never a C string: a NUL is as good as any character here */
  for (const [k, v] of Object.entries(a)) {
    if (typeof v !== 'string') asString(v, `annotations.${k}`);
    out[k] = v as string;
  }
  return out;
}

function readLinux(l: Obj): Linux {
  for (const key of ['intelRdt', 'memoryPolicy', 'netDevices']) refuseIfSet(l, key, 'linux.');
  const seen = new Set<NamespaceType>();
  const namespaces = (optArray(l, 'namespaces', 'linux.') ?? []).map((v, i): Namespace => {
    const path = `linux.namespaces[${i}]`;
    const n = asObject(v, path);
    const type = asString(n.type, `${path}.type`) as NamespaceType;
    if (!NAMESPACE_TYPES.includes(type)) throw invalid(`${path}.type`, `unknown namespace type "${type}"`);
    if (seen.has(type)) throw invalid(`${path}.type`, `duplicate namespace "${type}"`);
    seen.add(type);
    const nsPath = optString(n, 'path', `${path}.`);
    if (nsPath !== undefined && !isAbsolute(nsPath)) throw invalid(`${path}.path`, `"${nsPath}" is not an absolute path`);
    return nsPath ? { type, path: nsPath } : { type };
  });
  return {
    namespaces,
    devices: (optArray(l, 'devices', 'linux.') ?? []).map((d, i) => readDevice(d, `linux.devices[${i}]`)),
    cgroupsPath: optString(l, 'cgroupsPath', 'linux.'),
    resources: readResources(l.resources, 'linux.resources.'),
    rootfsPropagation: optString(l, 'rootfsPropagation', 'linux.') || undefined,
    maskedPaths: (optStrings(l, 'maskedPaths', 'linux.') ?? []).map((p, i) => absolute(p, `linux.maskedPaths[${i}]`)),
    readonlyPaths: (optStrings(l, 'readonlyPaths', 'linux.') ?? []).map((p, i) => absolute(p, `linux.readonlyPaths[${i}]`)),
    uidMappings: readIdMappings(l, 'uidMappings'),
    gidMappings: readIdMappings(l, 'gidMappings'),
    timeOffsets: readTimeOffsets(l),
    sysctl: readSysctl(l),
    personality: readPersonality(l),
    seccomp: l.seccomp ?? undefined,
    mountLabel: optString(l, 'mountLabel', 'linux.') || undefined,
  };
}

function readIdMappings(l: Obj, key: 'uidMappings' | 'gidMappings'): IdMapping[] {
  return (optArray(l, key, 'linux.') ?? []).map((v, i) => {
    const path = `linux.${key}[${i}]`;
    const m = asObject(v, path);
    const read = (k: string) => {
      const n = optInteger(m, k, `${path}.`, 0, UINT32_MAX);
      if (n === undefined) throw invalid(`${path}.${k}`, 'is required');
      return n;
    };
    const mapping = { containerID: read('containerID'), hostID: read('hostID'), size: read('size') };
    if (mapping.size === 0) throw invalid(`${path}.size`, 'must be at least 1');
    return mapping;
  });
}

function readTimeOffsets(l: Obj): Linux['timeOffsets'] {
  const t = optObject(l, 'timeOffsets', 'linux.') ?? {};
  const out: Linux['timeOffsets'] = {};
  for (const [clock, v] of Object.entries(t)) {
    const path = `linux.timeOffsets.${clock}`;
    if (clock !== 'monotonic' && clock !== 'boottime') throw invalid(path, `unknown clock "${clock}" (monotonic or boottime)`);
    const o = asObject(v, path);
    out[clock] = {
      secs: optInteger(o, 'secs', `${path}.`, -(2 ** 53) + 1, 2 ** 53 - 1) ?? 0,
      nanosecs: optInteger(o, 'nanosecs', `${path}.`, 0, 999_999_999) ?? 0,
    };
  }
  return out;
}

/** Sysctls a container may set: those of its own ipc, network or uts namespace (runc's list). */
const IPC_SYSCTLS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

export function sysctlNamespace(key: string): NamespaceType | undefined {
  const k = key.replace(/\//g, '.');
  if (IPC_SYSCTLS.has(k) || k.startsWith('fs.mqueue.')) return 'ipc';
  if (k.startsWith('net.')) return 'network';
  if (k === 'kernel.hostname' || k === 'kernel.domainname') return 'uts';
  return undefined;
}

function readSysctl(l: Obj): Record<string, string> {
  const sys = optObject(l, 'sysctl', 'linux.') ?? {};
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(sys)) {
    const path = `linux.sysctl.${key}`;
    if (!/^[A-Za-z0-9_][A-Za-z0-9_./-]*$/.test(key) || key.split(/[./]/).includes('..')) throw invalid(path, 'is not a sysctl name');
    if (!sysctlNamespace(key)) throw invalid(path, 'is not namespaced: a container cannot set it');
    out[key] = asString(v, path);
  }
  return out;
}

function readPersonality(l: Obj): Linux['personality'] {
  const p = optObject(l, 'personality', 'linux.');
  if (!p) return undefined;
  const domain = asString(p.domain, 'linux.personality.domain');
  if (domain !== 'LINUX' && domain !== 'LINUX32')
    throw invalid('linux.personality.domain', `unknown domain "${domain}" (LINUX or LINUX32)`);
  refuseIfSet(p, 'flags', 'linux.personality.');
  return { domain };
}

/** Without a mount namespace the container shares the host's (runtime-spec: an unlisted
 * type is the runtime's), and droplet only chroots into root.path, as runc does; what would
 * mount in the host's mount table is refused (runc does those mounts there, and leaves them). */
function checkHostMountNamespace(spec: Spec): void {
  const needs = 'needs a new mount namespace (linux.namespaces)';
  if (spec.mounts.length) throw invalid('mounts[0]', needs);
  if (spec.root.readonly) throw invalid('root.readonly', needs);
  const l = spec.linux;
  if (l.maskedPaths.length) throw invalid('linux.maskedPaths', needs);
  if (l.readonlyPaths.length) throw invalid('linux.readonlyPaths', needs);
  if (l.devices.length) throw invalid('linux.devices', needs);
  if (l.rootfsPropagation) throw invalid('linux.rootfsPropagation', needs);
}

/** What some settings need from the namespaces: runc's checks. */
function checkNamespaceNeeds(spec: Spec, ns: Set<NamespaceType>): void {
  const l = spec.linux;
  const user = l.namespaces.find((n) => n.type === 'user');
  const newUser = user && !user.path;
  if (newUser && (l.uidMappings.length === 0 || l.gidMappings.length === 0))
    throw invalid('linux.uidMappings', 'a new user namespace needs uidMappings and gidMappings');
  if (!newUser && (l.uidMappings.length || l.gidMappings.length))
    throw invalid('linux.uidMappings', 'mappings need a new user namespace (linux.namespaces)');
  if (newUser) {
    const mapped = (maps: IdMapping[], id: number) => maps.some((m) => id >= m.containerID && id < m.containerID + m.size);
    if (!mapped(l.uidMappings, spec.process.user.uid))
      throw invalid('process.user.uid', `${spec.process.user.uid} is not mapped in linux.uidMappings`);
    if (!mapped(l.gidMappings, spec.process.user.gid))
      throw invalid('process.user.gid', `${spec.process.user.gid} is not mapped in linux.gidMappings`);
  }
  const time = l.namespaces.find((n) => n.type === 'time');
  if (Object.keys(l.timeOffsets).length && (!time || time.path))
    throw invalid('linux.timeOffsets', 'needs a new time namespace (linux.namespaces)');
  for (const key of Object.keys(l.sysctl)) {
    const needed = sysctlNamespace(key)!;
    const entry = l.namespaces.find((n) => n.type === needed);
    if (!entry || !ns.has(needed)) throw invalid(`linux.sysctl.${key}`, `needs its own ${needed} namespace (linux.namespaces)`);
  }
}

function absolute(p: string, path: string): string {
  if (!p.startsWith('/')) throw invalid(path, `"${p}" is not an absolute path`);
  return posix.normalize(p);
}

function readDevice(v: unknown, path: string): Device {
  const d = asObject(v, path);
  const type = asString(d.type, `${path}.type`);
  if (!['c', 'b', 'u', 'p'].includes(type)) throw invalid(`${path}.type`, `unknown device type "${type}"`);
  const p = absolute(asString(d.path, `${path}.path`), `${path}.path`);
  const needsNumbers = type !== 'p';
  const major = optInteger(d, 'major', `${path}.`, 0, UINT32_MAX);
  const minor = optInteger(d, 'minor', `${path}.`, 0, UINT32_MAX);
  if (needsNumbers && (major === undefined || minor === undefined)) throw invalid(path, 'major and minor are required');
  return {
    type: type as Device['type'],
    path: p,
    major: major ?? 0,
    minor: minor ?? 0,
    fileMode: optInteger(d, 'fileMode', `${path}.`, 0, 0o7777) ?? 0o666,
    uid: optInteger(d, 'uid', `${path}.`, 0, UINT32_MAX - 1) ?? 0,
    gid: optInteger(d, 'gid', `${path}.`, 0, UINT32_MAX - 1) ?? 0,
  };
}
