/** A classic-BPF interpreter for seccomp programs, to run compiled filters in tests the way
 * the kernel would: it checks what the kernel checks (length, forward jumps in range, loads
 * inside seccomp_data, a final RET) and throws on anything it does not know. */

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** up to 6 arguments; missing ones are 0 */
  args?: bigint[];
}

const BPF_MAXINSNS = 4096;
const SECCOMP_DATA_SIZE = 64;
const MEMWORDS = 16;

/** struct seccomp_data, little endian (every architecture droplet supports). */
function encodeData(d: SeccompData): Buffer {
  const b = Buffer.alloc(SECCOMP_DATA_SIZE);
  b.writeInt32LE(d.nr | 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  b.writeBigUInt64LE(d.instructionPointer ?? 0n, 8);
  const args = d.args ?? [];
  if (args.length > 6) throw new Error('seccomp_data has 6 arguments');
  args.forEach((a, i) => b.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  return b;
}

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export function decodeProgram(program: Buffer): Insn[] {
  if (program.length % 8 !== 0) throw new Error(`program length ${program.length} is not a multiple of 8`);
  const out: Insn[] = [];
  for (let off = 0; off < program.length; off += 8)
    out.push({
      code: program.readUInt16LE(off),
      jt: program.readUInt8(off + 2),
      jf: program.readUInt8(off + 3),
      k: program.readUInt32LE(off + 4),
    });
  return out;
}

/** The static checks of the kernel's bpf_check_classic() and seccomp_check_filter(). */
export function checkProgram(insns: Insn[]): void {
  if (insns.length === 0 || insns.length > BPF_MAXINSNS) throw new Error(`program has ${insns.length} instructions`);
  insns.forEach((ins, pc) => {
    const cls = ins.code & 0x07;
    if (cls === 0x05 /* BPF_JMP */) {
      const far = (ins.code & 0xf0) === 0x00 ? [ins.k] : [ins.jt, ins.jf];
      for (const d of far) if (pc + 1 + d >= insns.length) throw new Error(`jump out of range at ${pc}`);
    }
    if (ins.code === 0x20 && (ins.k >= SECCOMP_DATA_SIZE || ins.k % 4 !== 0)) throw new Error(`bad load offset ${ins.k} at ${pc}`);
  });
  const last = insns[insns.length - 1]!.code & 0x07; // not empty, checked above
  if (last !== 0x06) throw new Error('program does not end with RET');
}

/** Runs the filter on one syscall and returns its u32 result (action | data). */
export function runSeccomp(program: Buffer, data: SeccompData): number {
  const insns = decodeProgram(program);
  checkProgram(insns);
  const d = encodeData(data);
  const mem = new Uint32Array(MEMWORDS);
  let a = 0;
  let x = 0;
  /* the kernel refuses a word past BPF_MEMWORDS */
  const word = (k: number, pc: number) => {
    const w = mem[k];
    if (w === undefined) throw new Error(`bad memory word ${k} at ${pc}`);
    return w;
  };
  for (let pc = 0; pc < insns.length; pc++) {
    const { code, jt, jf, k } = insns[pc]!; // pc < insns.length
    const cond = (c: boolean) => (pc += c ? jt : jf);
    switch (code) {
      case 0x20:
        a = d.readUInt32LE(k);
        break; // ld [k]
      case 0x00:
        a = k;
        break; // ld #k
      case 0x01:
        x = k;
        break; // ldx #k
      case 0x60:
        a = word(k, pc);
        break; // ld M[k]
      case 0x61:
        x = word(k, pc);
        break; // ldx M[k]
      case 0x02:
        mem[k] = a;
        break; // st M[k]
      case 0x03:
        mem[k] = x;
        break; // stx M[k]
      case 0x54:
        a = (a & k) >>> 0;
        break; // and #k
      case 0x44:
        a = (a | k) >>> 0;
        break; // or #k
      case 0x05:
        pc += k;
        break; // ja
      case 0x15:
        cond(a === k);
        break; // jeq #k
      case 0x25:
        cond(a > k);
        break; // jgt #k
      case 0x35:
        cond(a >= k);
        break; // jge #k
      case 0x45:
        cond((a & k) !== 0);
        break; // jset #k
      case 0x06:
        return k >>> 0; // ret #k
      case 0x16:
        return a >>> 0; // ret a
      default:
        throw new Error(`unsupported instruction 0x${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('fell off the end of the program');
}
