import { SECCOMP_RET } from './actions.js';
import { X32_SYSCALL_BIT, type Arch } from './architectures.js';
import { Assembler, type Label } from './bpf.js';
import type { Condition, Profile, Rule } from './profile.js';

/** struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]. */
const NR = 0;
const ARCH = 4;
const argLow = (i: number) => 16 + 8 * i; // little endian: the low word comes first
const argHigh = (i: number) => argLow(i) + 4;

/** What a syscall of an architecture the filter does not list gets. libseccomp's default,
 * which runc keeps: SCMP_ACT_KILL, i.e. KILL_THREAD. It also covers an x32 call (nr with
 * X32_SYSCALL_BIT) when only x86_64 is listed, and the reverse, as libseccomp does. */
export const BAD_ARCH_ACTION = SECCOMP_RET.KILL_THREAD;

export interface Skipped {
  arch: string;
  name: string;
}

/** What the filter does for one syscall number: return an action, or check argument rules. */
type Handler = { ret: number } | { rules: Array<{ action: number; conditions: Condition[] }>; fallback: number; argBits: 32 | 64 };

/** A run of syscall numbers [lo, hi] that share a handler. */
interface Segment {
  lo: number;
  hi: number;
  handler: Handler;
}

/**
 * The filter, in three levels:
 *   1. seccomp_data.arch selects the architecture (the native one first); any other -> bad arch;
 *   2. a binary search on seccomp_data.nr over runs of numbers with the same outcome: adjacent
 *      syscalls that are all allowed (or all left to the default) cost one comparison together;
 *   3. for a syscall with argument rules, the rules in config order, then its rule without
 *      arguments if it has one, then the default action.
 */
export function buildProgram(profile: Profile, native: Arch): { program: Buffer; skipped: Skipped[] } {
  const arches = [native, ...profile.architectures.filter((a) => a !== native)];
  const groups = new Map<number, Arch[]>(); // audit arch -> ABIs sharing it (x86_64 and x32)
  for (const a of arches) groups.set(a.audit, [...(groups.get(a.audit) ?? []), a]);

  const skipped: Skipped[] = [];
  const asm = new Assembler();
  const bodies = [...groups].map(([audit, abis]) => ({ audit, abis, label: asm.label() }));

  asm.load(ARCH);
  for (const b of bodies) asm.jump('jeq', b.audit, b.label, undefined);
  asm.ret(BAD_ARCH_ACTION);
  for (const b of bodies) {
    asm.place(b.label);
    asm.load(NR);
    emitSearch(asm, segments(b.abis, profile, skipped));
  }
  return { program: asm.assemble(), skipped };
}

/** The runs covering every u32 syscall number under one audit arch. */
function segments(abis: Arch[], profile: Profile, skipped: Skipped[]): Segment[] {
  const def: Handler = { ret: profile.defaultAction };
  const bad: Handler = { ret: BAD_ARCH_ACTION };
  const listed = (range: Arch['nrRange']) => abis.some((a) => a.nrRange === range);
  /* x86_64 and x32 split the numbers of AUDIT_ARCH_X86_64; the half of an ABI not listed is bad arch. */
  const regions: Segment[] = listed('all')
    ? [{ lo: 0, hi: 0xffffffff, handler: def }]
    : [
        { lo: 0, hi: X32_SYSCALL_BIT - 1, handler: listed('below-x32-bit') ? def : bad },
        { lo: X32_SYSCALL_BIT, hi: 0xffffffff, handler: listed('x32-bit') ? def : bad },
      ];

  const handlers = new Map<number, Handler>();
  for (const abi of abis) for (const [nr, h] of syscallHandlers(abi, profile, skipped)) handlers.set(nr, h);
  const numbers = [...handlers.keys()].sort((x, y) => x - y);

  const out: Segment[] = [];
  const push = (s: Segment) => {
    const last = out[out.length - 1];
    if (last && 'ret' in last.handler && 'ret' in s.handler && last.handler.ret === s.handler.ret) last.hi = s.hi;
    else out.push(s);
  };
  let k = 0;
  for (const r of regions) {
    let from = r.lo;
    for (; k < numbers.length; k++) {
      const nr = numbers[k]!; // k < numbers.length
      if (nr > r.hi) break;
      if (nr > from) push({ lo: from, hi: nr - 1, handler: r.handler });
      push({ lo: nr, hi: nr, handler: handlers.get(nr)! });
      from = nr + 1;
    }
    if (from <= r.hi) push({ lo: from, hi: r.hi, handler: r.handler });
  }
  return out;
}

/** Per syscall number of one ABI: its rules with arguments in order, and the first rule without
 * (libseccomp also keeps the first of two unconditional rules). Names the ABI has no number for
 * are skipped, as runc does. */
function syscallHandlers(abi: Arch, profile: Profile, skipped: Skipped[]): Map<number, Handler> {
  const byNr = new Map<number, { conditional: Rule[]; unconditional?: number }>();
  for (const rule of profile.rules) {
    const nr = Object.hasOwn(abi.table, rule.name) ? abi.table[rule.name] : undefined;
    if (nr === undefined) {
      if (!skipped.some((s) => s.arch === abi.name && s.name === rule.name)) skipped.push({ arch: abi.name, name: rule.name });
      continue;
    }
    const entry = byNr.get(nr) ?? { conditional: [] };
    byNr.set(nr, entry);
    if (rule.conditions.length) entry.conditional.push(rule);
    else entry.unconditional ??= rule.action;
  }
  const out = new Map<number, Handler>();
  for (const [nr, e] of byNr) {
    const fallback = e.unconditional ?? profile.defaultAction;
    out.set(nr, e.conditional.length ? { rules: e.conditional, fallback, argBits: abi.argBits } : { ret: fallback });
  }
  return out;
}

/** Binary search on A = nr: each node sends the upper half of the runs to its right subtree. */
function emitSearch(asm: Assembler, segs: Segment[]): void {
  // the runs cover every number, so there is at least one
  if (segs.length === 1) {
    emitHandler(asm, segs[0]!.handler);
    return;
  }
  const mid = segs.length >> 1;
  const upper = asm.label();
  asm.jump('jge', segs[mid]!.lo, upper, undefined);
  emitSearch(asm, segs.slice(0, mid));
  asm.place(upper);
  emitSearch(asm, segs.slice(mid));
}

function emitHandler(asm: Assembler, h: Handler): void {
  if ('ret' in h) {
    asm.ret(h.ret);
    return;
  }
  for (const rule of h.rules) {
    const next = asm.label();
    for (const c of rule.conditions) emitCondition(asm, c, h.argBits, next);
    asm.ret(rule.action);
    asm.place(next);
  }
  asm.ret(h.fallback);
}

const word = (v: bigint, high: boolean) => Number(high ? (v >> 32n) & 0xffffffffn : v & 0xffffffffn);

/** Falls through when the condition holds, jumps to `fail` when not. On 64-bit ABIs the high
 * words decide unless they are equal; 32-bit ABIs compare the low words only, as libseccomp. */
function emitCondition(asm: Assembler, c: Condition, bits: 32 | 64, fail: Label): void {
  if (c.op === 'MASKED_EQ') {
    /* libseccomp masks the expected value too: bits outside the mask cannot matter. */
    const want = c.valueTwo & c.value;
    for (const high of bits === 64 ? [true, false] : [false]) {
      const mask = word(c.value, high);
      if (mask === 0) continue; // (x & 0) == 0 always holds
      asm.load(high ? argHigh(c.index) : argLow(c.index));
      if (mask !== 0xffffffff) asm.and(mask);
      asm.jump('jeq', word(want, high), undefined, fail);
    }
    return;
  }
  const lo = word(c.value, false);
  const pass = asm.label();
  if (bits === 64) {
    const hi = word(c.value, true);
    asm.load(argHigh(c.index));
    switch (c.op) {
      case 'EQ':
        asm.jump('jeq', hi, undefined, fail);
        break;
      case 'NE':
        asm.jump('jeq', hi, undefined, pass);
        break;
      case 'GT':
      case 'GE':
        asm.jump('jgt', hi, pass, undefined);
        asm.jump('jeq', hi, undefined, fail);
        break;
      case 'LT':
      case 'LE':
        asm.jump('jgt', hi, fail, undefined);
        asm.jump('jeq', hi, undefined, pass);
        break;
    }
  }
  /* High words equal (or not compared): the low words decide. */
  asm.load(argLow(c.index));
  switch (c.op) {
    case 'EQ':
      asm.jump('jeq', lo, pass, fail);
      break;
    case 'NE':
      asm.jump('jeq', lo, fail, pass);
      break;
    case 'GT':
      asm.jump('jgt', lo, pass, fail);
      break;
    case 'GE':
      asm.jump('jge', lo, pass, fail);
      break;
    case 'LT':
      asm.jump('jge', lo, fail, pass);
      break;
    case 'LE':
      asm.jump('jgt', lo, fail, pass);
      break;
  }
  asm.place(pass);
}
