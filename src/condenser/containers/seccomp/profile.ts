import { constants } from 'node:os';
import {
  asInteger,
  asObject,
  asString,
  invalid,
  optArray,
  optInteger,
  optObject,
  optString,
  optStrings,
  type Obj,
} from '../../../lib/json-reader.js';
import { type KernelVersion, parseKernelVersion } from './kernel-version.js';

/** A seccomp profile as docker and podman write them (moby's profiles/seccomp, containers-common's
 * seccomp.json): the runtime-spec's linux.seccomp plus archMap and per-rule includes/excludes
 * that are resolved for one host and one container before the runtime sees it. */
export interface SeccompProfile {
  /** absent with no syscalls: the profile asks for no filter (moby's rule) */
  defaultAction?: string;
  defaultErrnoRet?: number;
  architectures: string[];
  archMap: ArchMapEntry[];
  flags: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls: ProfileSyscall[];
}

export interface ArchMapEntry {
  architecture: string;
  subArchitectures: string[];
}

export interface ProfileSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args: SeccompArg[];
  includes: RuleFilter;
  excludes: RuleFilter;
}

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo: number;
  op: string;
}

/** When a rule applies: caps as CAP_X names, arches as libseccomp's native names (amd64,
 * arm64, x32, ...), minKernel as major.minor. */
export interface RuleFilter {
  caps: string[];
  arches: string[];
  minKernel?: KernelVersion;
}

const ACTIONS = new Set([
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
]);
const OPERATORS = new Set(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']);
const ERRNO_MAX = 0xffff;

/** Reads a parsed profile, naming the offending field by its JSON path. Values are checked
 * here, at create, so a bad profile is refused before anything is made, whichever runtime
 * would have loaded it. */
export function readSeccompProfile(raw: unknown): SeccompProfile {
  const o = asObject(raw, '(profile)');
  const defaultAction = optString(o, 'defaultAction', '');
  if (defaultAction !== undefined) checkAction(defaultAction, 'defaultAction');
  const architectures = optStrings(o, 'architectures', '') ?? [];
  architectures.forEach((a, i) => checkArch(a, `architectures[${i}]`));
  const archMap = (optArray(o, 'archMap', '') ?? []).map((v, i) => readArchMapEntry(v, `archMap[${i}]`));
  if (architectures.length > 0 && archMap.length > 0) throw invalid('archMap', 'give either architectures or archMap, not both');
  const syscalls = (optArray(o, 'syscalls', '') ?? []).map((v, i) => readSyscall(v, `syscalls[${i}]`));
  if (defaultAction === undefined && syscalls.length > 0) throw invalid('defaultAction', 'is required when syscalls are listed');
  const profile: SeccompProfile = { architectures, archMap, flags: optStrings(o, 'flags', '') ?? [], syscalls };
  if (defaultAction !== undefined) profile.defaultAction = defaultAction;
  const defaultErrnoRet = errnoOf(o, 'defaultErrnoRet', 'defaultErrno', '');
  if (defaultErrnoRet !== undefined) profile.defaultErrnoRet = checkErrnoTaken(defaultAction, defaultErrnoRet, 'defaultErrnoRet');
  const listenerPath = optString(o, 'listenerPath', '');
  if (listenerPath !== undefined) profile.listenerPath = listenerPath;
  const listenerMetadata = optString(o, 'listenerMetadata', '');
  if (listenerMetadata !== undefined) profile.listenerMetadata = listenerMetadata;
  return profile;
}

function readArchMapEntry(v: unknown, path: string): ArchMapEntry {
  const o = asObject(v, path);
  const architecture = optString(o, 'architecture', `${path}.`);
  if (architecture === undefined) throw invalid(`${path}.architecture`, 'is required');
  checkArch(architecture, `${path}.architecture`);
  const subArchitectures = optStrings(o, 'subArchitectures', `${path}.`) ?? [];
  subArchitectures.forEach((a, i) => checkArch(a, `${path}.subArchitectures[${i}]`));
  return { architecture, subArchitectures };
}

function readSyscall(v: unknown, path: string): ProfileSyscall {
  const o = asObject(v, path);
  const name = optString(o, 'name', `${path}.`);
  const listed = optStrings(o, 'names', `${path}.`);
  if (name !== undefined && listed !== undefined && listed.length > 0) throw invalid(`${path}.name`, 'give either name or names, not both');
  const names = name !== undefined ? [name] : (listed ?? []);
  if (names.length === 0) throw invalid(`${path}.names`, 'must name at least one syscall');
  names.forEach((n, i) => {
    if (n === '') throw invalid(`${path}.names[${i}]`, 'is empty');
  });
  const action = optString(o, 'action', `${path}.`);
  if (action === undefined) throw invalid(`${path}.action`, 'is required');
  checkAction(action, `${path}.action`);
  const args = (optArray(o, 'args', `${path}.`) ?? []).map((a, i) => readArg(a, `${path}.args[${i}]`));
  if (args.length > 6) throw invalid(`${path}.args`, `a syscall has 6 arguments, got ${args.length} conditions`);
  const syscall: ProfileSyscall = {
    names,
    action,
    args,
    includes: readFilter(o, 'includes', path),
    excludes: readFilter(o, 'excludes', path),
  };
  const errnoRet = errnoOf(o, 'errnoRet', 'errno', `${path}.`);
  if (errnoRet !== undefined) syscall.errnoRet = checkErrnoTaken(action, errnoRet, `${path}.errnoRet`);
  return syscall;
}

function readArg(v: unknown, path: string): SeccompArg {
  const o = asObject(v, path);
  const index = asInteger(o.index, `${path}.index`, 0, 5);
  const op = optString(o, 'op', `${path}.`);
  if (op === undefined) throw invalid(`${path}.op`, 'is required');
  if (!OPERATORS.has(op)) throw invalid(`${path}.op`, `unknown operator "${op}" (${[...OPERATORS].join(', ')})`);
  return { index, value: argValue(o, 'value', path), valueTwo: argValue(o, 'valueTwo', path), op };
}

/** A uint64 as JSON.parse reads it: exact only up to 2^53, so larger ones are refused rather
 * than compared against a rounded value. */
function argValue(o: Obj, key: string, path: string): number {
  const v = o[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw invalid(`${path}.${key}`, 'expected a whole number of at least 0');
  if (!Number.isSafeInteger(v)) throw invalid(`${path}.${key}`, `${v} is above 2^53, where JSON numbers stop being exact`);
  return v;
}

function readFilter(o: Obj, key: string, path: string): RuleFilter {
  const f = optObject(o, key, `${path}.`);
  if (!f) return { caps: [], arches: [] };
  const at = `${path}.${key}.`;
  const filter: RuleFilter = {
    caps: (optStrings(f, 'caps', at) ?? []).map(capabilityName),
    arches: optStrings(f, 'arches', at) ?? [],
  };
  const minKernel = f.minKernel === undefined || f.minKernel === null ? undefined : asString(f.minKernel, `${at}minKernel`);
  if (minKernel !== undefined && minKernel !== '') {
    const version = parseKernelVersion(minKernel);
    if (!version) throw invalid(`${at}minKernel`, `"${minKernel}" is not a kernel version such as 5.8`);
    filter.minKernel = version;
  }
  return filter;
}

/** The errno a rule returns: the number, or else its name (containers-common writes both,
 * newer profiles only the name). */
function errnoOf(o: Obj, numberKey: string, nameKey: string, path: string): number | undefined {
  const n = optInteger(o, numberKey, path, 0, ERRNO_MAX);
  if (n !== undefined) return n;
  const name = optString(o, nameKey, path);
  if (name === undefined || name === '') return undefined;
  const value = Object.hasOwn(constants.errno, name) ? (constants.errno as Record<string, number>)[name] : undefined;
  if (value === undefined) throw invalid(`${path}${nameKey}`, `unknown errno "${name}"`);
  return value;
}

/** Only SCMP_ACT_ERRNO and SCMP_ACT_TRACE carry a value (runtime-spec); runtimes refuse it on others. */
function checkErrnoTaken(action: string | undefined, errno: number, path: string): number {
  if (action !== 'SCMP_ACT_ERRNO' && action !== 'SCMP_ACT_TRACE')
    throw invalid(path, `only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take a return value, not ${action ?? 'no action'}`);
  return errno;
}

function checkAction(name: string, path: string): void {
  if (!ACTIONS.has(name)) throw invalid(path, `unknown action "${name}" (${[...ACTIONS].join(', ')})`);
}

function checkArch(name: string, path: string): void {
  if (!/^SCMP_ARCH_[A-Z0-9_]+$/.test(name)) throw invalid(path, `"${name}" is not an architecture such as SCMP_ARCH_X86_64`);
}

/** Profiles name capabilities as CAP_X; the prefix and case are forgiven, as the flags do. */
function capabilityName(name: string): string {
  const upper = name.toUpperCase();
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}
