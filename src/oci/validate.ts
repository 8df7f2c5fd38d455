import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import { UserError, reason } from '../common/errors.js';
import {
  NAMESPACE_TYPES, type Capabilities, type Device, type DeviceRule, type Linux, type Mount,
  type Namespace, type NamespaceType, type Process, type Rlimit, type Spec,
} from './spec.js';
import {
  asInteger, asObject, asString, invalid, optArray, optBool, optInteger, optObject, optString,
  optStrings, refuseIfSet, UINT32_MAX, type Obj,
} from './json-reader.js';

/** Reads <bundle>/config.json and validates it, or throws a UserError naming the field. */
export function loadSpec(bundle: string): Spec {
  let st;
  try {
    st = statSync(bundle);
  } catch (err) {
    throw new UserError(`bundle ${bundle}: ${reason(err)}`);
  }
  if (!st.isDirectory()) throw new UserError(`bundle ${bundle}: not a directory`);
  const file = join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`config.json: cannot read ${file}: ${reason(err)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UserError(`config.json: invalid JSON: ${(err as Error).message}`);
  }
  return validateSpec(raw, bundle);
}

export function validateSpec(raw: unknown, bundle: string): Spec {
  const o = asObject(raw, '(top level)');
  const ociVersion = optString(o, 'ociVersion', '') ?? '';
  if (ociVersion && !/^1\./.test(ociVersion)) throw invalid('ociVersion', `unsupported version "${ociVersion}"`);
  refuseIfSet(o, 'hooks', '');
  refuseIfSet(o, 'vm', '');
  const linux = readLinux(optObject(o, 'linux', '') ?? {});
  const spec: Spec = {
    ociVersion,
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
  if (!ns.has('mount')) throw invalid('linux.namespaces', 'a mount namespace is required');
  return spec;
}

function readRoot(o: Obj, bundle: string): Spec['root'] {
  const root = optObject(o, 'root', '');
  if (!root) throw invalid('root', 'is required');
  const p = optString(root, 'path', 'root.');
  if (!p) throw invalid('root.path', 'is required');
  const path = isAbsolute(p) ? p : join(bundle, p);
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw invalid('root.path', `${path}: ${reason(err)}`);
  }
  if (!st.isDirectory()) throw invalid('root.path', `${path}: not a directory`);
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

function readProcess(o: Obj): Process {
  const p = optObject(o, 'process', '');
  if (!p) throw invalid('process', 'is required');
  const terminal = optBool(p, 'terminal', 'process.') ?? false;
  if (terminal) throw invalid('process.terminal', 'not supported by this version of droplet');
  for (const key of ['apparmorProfile', 'selinuxLabel', 'ioPriority', 'scheduler', 'execCPUAffinity'])
    refuseIfSet(p, key, 'process.');
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
  };
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
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) throw invalid(`${path}.${k}`, 'expected a non-negative integer');
    return x;
  };
  const soft = limit('soft');
  const hard = limit('hard');
  if (soft > hard) throw invalid(path, `soft limit ${soft} is above the hard limit ${hard}`);
  return { type, soft, hard };
}

function readAnnotations(o: Obj): Record<string, string> {
  const a = optObject(o, 'annotations', '') ?? {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a)) out[k] = asString(v, `annotations.${k}`);
  return out;
}

function readLinux(l: Obj): Linux {
  for (const key of ['uidMappings', 'gidMappings', 'timeOffsets', 'sysctl', 'seccomp', 'mountLabel',
    'intelRdt', 'personality', 'memoryPolicy', 'netDevices'])
    refuseIfSet(l, key, 'linux.');
  const seen = new Set<NamespaceType>();
  const namespaces = (optArray(l, 'namespaces', 'linux.') ?? []).map((v, i): Namespace => {
    const path = `linux.namespaces[${i}]`;
    const n = asObject(v, path);
    const type = asString(n.type, `${path}.type`) as NamespaceType;
    if (!NAMESPACE_TYPES.includes(type)) throw invalid(`${path}.type`, `unknown namespace type "${type}"`);
    if (seen.has(type)) throw invalid(`${path}.type`, `duplicate namespace "${type}"`);
    seen.add(type);
    if (type === 'user' || type === 'time') throw invalid(`${path}.type`, `"${type}" namespaces are not supported by this version of droplet`);
    const nsPath = optString(n, 'path', `${path}.`);
    if (nsPath !== undefined) {
      if (!isAbsolute(nsPath)) throw invalid(`${path}.path`, `"${nsPath}" is not an absolute path`);
      try {
        statSync(nsPath);
      } catch (err) {
        throw invalid(`${path}.path`, `${nsPath}: ${reason(err)}`);
      }
    }
    return nsPath ? { type, path: nsPath } : { type };
  });
  const resources = optObject(l, 'resources', 'linux.') ?? {};
  for (const key of Object.keys(resources))
    if (key !== 'devices') refuseIfSet(resources, key, 'linux.resources.');
  return {
    namespaces,
    devices: (optArray(l, 'devices', 'linux.') ?? []).map((d, i) => readDevice(d, `linux.devices[${i}]`)),
    cgroupsPath: optString(l, 'cgroupsPath', 'linux.'),
    deviceRules: (optArray(resources, 'devices', 'linux.resources.') ?? []).map((d, i) =>
      readDeviceRule(d, `linux.resources.devices[${i}]`),
    ),
    rootfsPropagation: optString(l, 'rootfsPropagation', 'linux.') || undefined,
    maskedPaths: (optStrings(l, 'maskedPaths', 'linux.') ?? []).map((p, i) => absolute(p, `linux.maskedPaths[${i}]`)),
    readonlyPaths: (optStrings(l, 'readonlyPaths', 'linux.') ?? []).map((p, i) => absolute(p, `linux.readonlyPaths[${i}]`)),
  };
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

function readDeviceRule(v: unknown, path: string): DeviceRule {
  const d = asObject(v, path);
  const allow = optBool(d, 'allow', `${path}.`);
  if (allow === undefined) throw invalid(`${path}.allow`, 'is required');
  const type = optString(d, 'type', `${path}.`) ?? 'a';
  if (!['a', 'c', 'b'].includes(type)) throw invalid(`${path}.type`, `unknown device type "${type}"`);
  const access = optString(d, 'access', `${path}.`) ?? 'rwm';
  if (!/^[rwm]{1,3}$/.test(access)) throw invalid(`${path}.access`, `"${access}" is not a combination of r, w and m`);
  return {
    allow,
    type: type as DeviceRule['type'],
    major: optInteger(d, 'major', `${path}.`, -1, UINT32_MAX),
    minor: optInteger(d, 'minor', `${path}.`, -1, UINT32_MAX),
    access,
  };
}
