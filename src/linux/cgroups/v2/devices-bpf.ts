import type { DeviceRule } from '../../../oci/spec.js';
import { DEFAULT_ALLOWED } from '../default-devices.js';

/** cgroup v2 has no devices.allow: device access is decided by a BPF_PROG_TYPE_CGROUP_DEVICE
 * program attached to the cgroup. This builds that program from the same rules the v1
 * controller gets (the config's, then runc's default set, then the configured nodes), with
 * the v1 controller's meaning: the last rule that matches an access decides it, "a" matches
 * every device, an allow rule matches an access it fully covers, a deny rule one it touches,
 * and an access no rule matches is allowed (a v1 cgroup starts in allow-all mode; configs
 * begin with a deny "a" rule to leave it). The layout of each rule's block follows systemd,
 * crun and runc (libcontainer/cgroups/devices/devicefilter.go).
 *
 * The program reads struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; },
 * where access_type is (access << 16) | type, and returns 1 to allow, 0 to deny. */

/** BPF_DEVCG_DEV_* and BPF_DEVCG_ACC_* from <linux/bpf.h>. */
export const DEV_TYPE = { b: 1, c: 2 } as const;
export const ACC = { m: 1, r: 2, w: 4 } as const;

/** Opcodes: class | op | source (<linux/bpf_common.h>, <linux/bpf.h>). */
const OP = {
  LDXW: 0x61, // BPF_LDX | BPF_MEM | BPF_W
  AND32_K: 0x54, // BPF_ALU | BPF_AND | BPF_K
  RSH32_K: 0x74, // BPF_ALU | BPF_RSH | BPF_K
  MOV32_X: 0xbc, // BPF_ALU | BPF_MOV | BPF_X
  MOV64_K: 0xb7, // BPF_ALU64 | BPF_MOV | BPF_K
  JNE32_K: 0x56, // BPF_JMP32 | BPF_JNE | BPF_K: majors and minors are u32, compared as such
  JNE32_X: 0x5e, // BPF_JMP32 | BPF_JNE | BPF_X
  JEQ32_K: 0x16, // BPF_JMP32 | BPF_JEQ | BPF_K
  EXIT: 0x95, // BPF_JMP | BPF_EXIT
} as const;

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

/** R2 = type, R3 = access, R4 = major, R5 = minor (R1 holds the context). */
const PROLOGUE: Insn[] = [
  insn(OP.LDXW, 2, 1, 0, 0),
  insn(OP.AND32_K, 2, 0, 0, 0xffff),
  insn(OP.LDXW, 3, 1, 0, 0),
  insn(OP.RSH32_K, 3, 0, 0, 16),
  insn(OP.LDXW, 4, 1, 4, 0),
  insn(OP.LDXW, 5, 1, 8, 0),
];

function accessBits(access: string): number {
  let bits = 0;
  for (const ch of access) bits |= ACC[ch as keyof typeof ACC] ?? 0;
  return bits;
}

/** One rule: tests that jump past the block when the access does not match it, then
 * "return allow" (or deny). Jump offsets count the instructions skipped. */
function ruleBlock(r: DeviceRule): Insn[] {
  const tests: Array<(skip: number) => Insn[]> = [];
  if (r.type !== 'a') {
    tests.push((skip) => [insn(OP.JNE32_K, 2, 0, skip, DEV_TYPE[r.type as 'b' | 'c'])]);
    const acc = accessBits(r.access);
    if (acc !== (ACC.r | ACC.w | ACC.m)) {
      tests.push((skip) => [
        insn(OP.MOV32_X, 1, 3, 0, 0),
        insn(OP.AND32_K, 1, 0, 0, acc),
        /* allow: every requested bit is in the rule; deny: some requested bit is */
        r.allow ? insn(OP.JNE32_X, 1, 3, skip, 0) : insn(OP.JEQ32_K, 1, 0, skip, 0),
      ]);
    }
    if (r.major !== undefined && r.major >= 0) tests.push((skip) => [insn(OP.JNE32_K, 4, 0, skip, r.major! | 0)]);
    if (r.minor !== undefined && r.minor >= 0) tests.push((skip) => [insn(OP.JNE32_K, 5, 0, skip, r.minor! | 0)]);
  }
  const verdict = [insn(OP.MOV64_K, 0, 0, 0, r.allow ? 1 : 0), insn(OP.EXIT, 0, 0, 0, 0)];
  /* built back to front: each test ends in its jump, which skips what follows it */
  let block = verdict;
  for (const test of tests.reverse()) block = [...test(block.length), ...block];
  return block;
}

/** The whole program for rules in v1 order (later rules win). */
export function deviceFilterProgram(rules: DeviceRule[]): Insn[] {
  const out = [...PROLOGUE];
  /* the last rule is tested first; a rule for every device ends the program */
  for (const r of [...rules].reverse()) {
    out.push(...ruleBlock(r));
    if (r.type === 'a') return out;
  }
  out.push(insn(OP.MOV64_K, 0, 0, 0, 1), insn(OP.EXIT, 0, 0, 0, 0));
  return out;
}

/** The rules a container's filter enforces: as on v1, the config's, then the default set,
 * then one allow rule per configured device node. */
export function containerDeviceRules(rules: DeviceRule[], deviceNodes: DeviceRule[]): DeviceRule[] {
  return [...rules, ...DEFAULT_ALLOWED, ...deviceNodes];
}

/** struct bpf_insn[], as BPF_PROG_LOAD takes it (little-endian x86_64/arm64). */
export function encodeProgram(insns: Insn[]): Buffer {
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    buf.writeUInt8(i.code, n * 8);
    buf.writeUInt8((i.src << 4) | i.dst, n * 8 + 1);
    buf.writeInt16LE(i.off, n * 8 + 2);
    buf.writeInt32LE(i.imm, n * 8 + 4);
  });
  return buf;
}
