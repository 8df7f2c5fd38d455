import { isAbsolute } from 'node:path';
import { asInteger, asObject, invalid, optArray, optInteger, optString, optStrings, type Obj } from '../../lib/json-reader.js';
import { FILTER_FLAGS, NOTIFY, actionValue, isAction, takesErrnoRet } from './actions.js';
import { lookupArch, type Arch } from './architectures.js';

/** linux.seccomp, validated: actions are already filter return values. */
export interface Profile {
  defaultAction: number;
  /** the architectures listed, in order, without repeats */
  architectures: Arch[];
  flags: number;
  notify: boolean;
  listenerPath?: string;
  listenerMetadata?: string;
  rules: Rule[];
}

/** One rule for one syscall: it matches when every condition holds. */
export interface Rule {
  name: string;
  action: number;
  conditions: Condition[];
}

export type Operator = 'NE' | 'LT' | 'LE' | 'EQ' | 'GE' | 'GT' | 'MASKED_EQ';
export const OPERATORS = new Set<string>(['NE', 'LT', 'LE', 'EQ', 'GE', 'GT', 'MASKED_EQ']);

export interface Condition {
  index: number;
  op: Operator;
  /** for MASKED_EQ, the mask */
  value: bigint;
  /** for MASKED_EQ, the value the masked argument must equal */
  valueTwo: bigint;
}

const P = 'linux.seccomp';
const U16_MAX = 0xffff;
const U64_MAX = (1n << 64n) - 1n;
/** sun_path holds 108 bytes with its NUL. */
const SUN_PATH_MAX = 107;

export function readProfile(raw: unknown): Profile {
  const o = asObject(raw, P);

  const defaultName = optString(o, 'defaultAction', `${P}.`);
  if (defaultName === undefined) throw invalid(`${P}.defaultAction`, 'is required');
  const defaultAction = readAction(defaultName, o, 'defaultErrnoRet', `${P}.defaultAction`, `${P}.`);
  let notify = defaultName === NOTIFY;
  let notifyPath = `${P}.defaultAction`;

  const architectures: Arch[] = [];
  (optStrings(o, 'architectures', `${P}.`) ?? []).forEach((name, i) => {
    const found = lookupArch(name);
    if ('error' in found) throw invalid(`${P}.architectures[${i}]`, found.error);
    if (!architectures.includes(found.arch)) architectures.push(found.arch);
  });

  let flags = 0;
  (optStrings(o, 'flags', `${P}.`) ?? []).forEach((name, i) => {
    const flag = Object.hasOwn(FILTER_FLAGS, name) ? FILTER_FLAGS[name] : undefined;
    if (flag === undefined) throw invalid(`${P}.flags[${i}]`, `unknown flag "${name}"`);
    flags |= flag;
  });

  const rules: Rule[] = [];
  (optArray(o, 'syscalls', `${P}.`) ?? []).forEach((v, i) => {
    const path = `${P}.syscalls[${i}]`;
    const s = asObject(v, path);
    const names = optStrings(s, 'names', `${path}.`);
    if (!names || names.length === 0) throw invalid(`${path}.names`, 'must name at least one syscall');
    names.forEach((n, j) => {
      if (n === '') throw invalid(`${path}.names[${j}]`, 'is empty');
    });
    const actionName = optString(s, 'action', `${path}.`);
    if (actionName === undefined) throw invalid(`${path}.action`, 'is required');
    const action = readAction(actionName, s, 'errnoRet', `${path}.action`, `${path}.`);
    if (actionName === NOTIFY && !notify) {
      notify = true;
      notifyPath = `${path}.action`;
    }
    for (const conditions of readConditions(s, path)) for (const name of names) rules.push({ name, action, conditions });
  });

  const listenerPath = optString(o, 'listenerPath', `${P}.`);
  const listenerMetadata = optString(o, 'listenerMetadata', `${P}.`);
  if (listenerPath !== undefined) {
    if (!isAbsolute(listenerPath)) throw invalid(`${P}.listenerPath`, `"${listenerPath}" is not an absolute path`);
    if (Buffer.byteLength(listenerPath) > SUN_PATH_MAX)
      throw invalid(`${P}.listenerPath`, `longer than the ${SUN_PATH_MAX} bytes a unix socket path can have`);
  }
  if (listenerMetadata !== undefined && listenerPath === undefined)
    throw invalid(`${P}.listenerMetadata`, 'needs linux.seccomp.listenerPath');
  if (notify && listenerPath === undefined) throw invalid(notifyPath, `${NOTIFY} needs linux.seccomp.listenerPath`);

  /* The listener fields mean nothing without a notify action (runtime-spec: ignored). */
  return notify
    ? { defaultAction, architectures, flags, notify, listenerPath, listenerMetadata, rules }
    : { defaultAction, architectures, flags, notify, rules };
}

function readAction(name: string, o: Obj, errnoKey: string, path: string, prefix: string): number {
  if (!isAction(name)) throw invalid(path, `unknown action "${name}"`);
  const errnoRet = optInteger(o, errnoKey, prefix, 0, U16_MAX);
  if (errnoRet !== undefined && !takesErrnoRet(name))
    throw invalid(`${prefix}${errnoKey}`, `only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take a return value, not ${name}`);
  return actionValue(name, errnoRet);
}

/** The rule's conditions, as one AND-ed list, or, when two of them test the same argument, one
 * list per condition: runc then adds each as a rule of its own (an OR), and so does droplet. */
function readConditions(s: Obj, path: string): Condition[][] {
  const args = optArray(s, 'args', `${path}.`) ?? [];
  if (args.length > 6) throw invalid(`${path}.args`, `a syscall has 6 arguments, got ${args.length} conditions`);
  const conditions = args.map((a, k) => readCondition(a, `${path}.args[${k}]`));
  const indexes = new Set(conditions.map((c) => c.index));
  if (indexes.size === conditions.length) return [conditions];
  return conditions.map((c) => [c]);
}

function readCondition(v: unknown, path: string): Condition {
  const a = asObject(v, path);
  if (a.index === undefined || a.index === null) throw invalid(`${path}.index`, 'is required');
  const index = asInteger(a.index, `${path}.index`, 0, 5);
  const op = optString(a, 'op', `${path}.`);
  if (op === undefined) throw invalid(`${path}.op`, 'is required');
  const short = op.startsWith('SCMP_CMP_') ? op.slice('SCMP_CMP_'.length) : '';
  if (!OPERATORS.has(short)) throw invalid(`${path}.op`, `unknown operator "${op}"`);
  if (a.value === undefined || a.value === null) throw invalid(`${path}.value`, 'is required');
  const value = asU64(a.value, `${path}.value`);
  const valueTwo = a.valueTwo === undefined || a.valueTwo === null ? 0n : asU64(a.valueTwo, `${path}.valueTwo`);
  return { index, op: short as Operator, value, valueTwo };
}

/** A uint64 from parsed JSON. config.json is read with parseExactJson, which gives values
 * beyond 2^53 as bigints; JSON.parse (a caller's own) makes every number a double, exact only
 * up to 2^53. One rounding of those is taken back: 18446744073709551615 (~0, a common mask)
 * parses to exactly 2^64, which no uint64 is, so 2^64 is read as ~0. */
function asU64(v: unknown, path: string): bigint {
  let n: bigint;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'number' && Number.isInteger(v)) n = v === 2 ** 64 ? U64_MAX : BigInt(v);
  else if (typeof v === 'number') throw invalid(path, `${v} is not an integer`);
  else throw invalid(path, `expected integer, got ${Array.isArray(v) ? 'array' : typeof v}`);
  if (n < 0n || n > U64_MAX) throw invalid(path, `${n} is out of range [0, ${U64_MAX}]`);
  return n;
}
