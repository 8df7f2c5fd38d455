/** A small classic-BPF assembler for seccomp programs: instructions jump to labels, and
 * assemble() turns the labels into offsets. Conditional jumps only reach 255 instructions
 * ahead; a branch that needs more goes through a trampoline inserted right after it. */

/** <linux/filter.h> opcodes, the only ones seccomp programs here use. */
export const OP = {
  LD_W_ABS: 0x20, // BPF_LD | BPF_W | BPF_ABS
  AND_K: 0x54, // BPF_ALU | BPF_AND | BPF_K
  JA: 0x05, // BPF_JMP | BPF_JA
  JEQ_K: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
  JGT_K: 0x25, // BPF_JMP | BPF_JGT | BPF_K
  JGE_K: 0x35, // BPF_JMP | BPF_JGE | BPF_K
  JSET_K: 0x45, // BPF_JMP | BPF_JSET | BPF_K
  RET_K: 0x06, // BPF_RET | BPF_K
} as const;

/** BPF_MAXINSNS: the kernel refuses longer programs. */
export const BPF_MAXINSNS = 4096;

export type Cond = 'jeq' | 'jgt' | 'jge' | 'jset';
const COND_OP: Record<Cond, number> = { jeq: OP.JEQ_K, jgt: OP.JGT_K, jge: OP.JGE_K, jset: OP.JSET_K };

export interface Label {
  readonly id: number;
}

type Node =
  | { kind: 'label'; label: Label }
  | { kind: 'ld'; k: number }
  | { kind: 'and'; k: number }
  | { kind: 'jmp'; op: number; k: number; jt: Label; jf: Label }
  | { kind: 'ja'; to: Label }
  | { kind: 'ret'; k: number };

export class Assembler {
  private nodes: Node[] = [];
  private labels = 0;

  label(): Label {
    return { id: this.labels++ };
  }

  place(label: Label): void {
    this.nodes.push({ kind: 'label', label });
  }

  /** A = 32-bit word of seccomp_data at `offset`. */
  load(offset: number): void {
    this.nodes.push({ kind: 'ld', k: offset });
  }

  and(k: number): void {
    this.nodes.push({ kind: 'and', k: k >>> 0 });
  }

  /** if (A <cond> k) goto jt else goto jf; `undefined` means the next instruction. */
  jump(cond: Cond, k: number, jt: Label | undefined, jf: Label | undefined): void {
    const next = jt && jf ? undefined : this.label();
    this.nodes.push({ kind: 'jmp', op: COND_OP[cond], k: k >>> 0, jt: jt ?? next!, jf: jf ?? next! });
    if (next) this.place(next);
  }

  goto(to: Label): void {
    this.nodes.push({ kind: 'ja', to });
  }

  ret(k: number): void {
    this.nodes.push({ kind: 'ret', k: k >>> 0 });
  }

  /** struct sock_filter[]: u16 code, u8 jt, u8 jf, u32 k per instruction, little endian. */
  assemble(): Buffer {
    const nodes = this.withTrampolines();
    const pos = positions(nodes);
    const code = nodes.filter((n) => n.kind !== 'label');
    const buf = Buffer.alloc(code.length * 8);
    code.forEach((n, i) => {
      const off = i * 8;
      const dist = (l: Label) => {
        const d = pos.get(l.id)! - (i + 1);
        if (d < 0) throw new Error('seccomp BPF: backward jump');
        return d;
      };
      let op: number,
        jt = 0,
        jf = 0,
        k: number;
      switch (n.kind) {
        case 'ld':
          op = OP.LD_W_ABS;
          k = n.k;
          break;
        case 'and':
          op = OP.AND_K;
          k = n.k;
          break;
        case 'ret':
          op = OP.RET_K;
          k = n.k;
          break;
        case 'ja':
          op = OP.JA;
          k = dist(n.to);
          break;
        case 'jmp':
          op = n.op;
          jt = dist(n.jt);
          jf = dist(n.jf);
          k = n.k;
          break;
        default:
          throw new Error('unreachable');
      }
      buf.writeUInt16LE(op, off);
      buf.writeUInt8(jt, off + 2);
      buf.writeUInt8(jf, off + 3);
      buf.writeUInt32LE(k >>> 0, off + 4);
    });
    return buf;
  }

  /** Gives every branch that cannot reach its target a trampoline placed right after the jump:
   * a copy of the target when it is a `ret` (one instruction either way, one jump fewer at run
   * time), else a `ja`, whose offset is 32 bits. Inserting moves later code by one, so the layout
   * is recomputed until every branch fits. */
  private withTrampolines(): Node[] {
    const nodes = [...this.nodes];
    for (;;) {
      const pos = positions(nodes);
      const at = new Map<number, number>(); // label id -> index in nodes
      nodes.forEach((n, i) => n.kind === 'label' && at.set(n.label.id, i));
      let inserted = false;
      let p = 0;
      for (let i = 0; i < nodes.length && !inserted; i++) {
        const n = nodes[i]!; // i < nodes.length
        if (n.kind === 'label') continue;
        if (n.kind === 'jmp') {
          for (const branch of ['jt', 'jf'] as const) {
            if (pos.get(n[branch].id)! - (p + 1) <= 255) continue;
            const target = firstCode(nodes, at.get(n[branch].id)!);
            const via = this.label();
            const tramp: Node = target.kind === 'ret' ? { kind: 'ret', k: target.k } : { kind: 'ja', to: n[branch] };
            nodes.splice(i + 1, 0, { kind: 'label', label: via }, tramp);
            nodes[i] = { ...n, [branch]: via };
            inserted = true;
            break;
          }
        }
        p++;
      }
      if (!inserted) return nodes;
    }
  }
}

/** label id -> index of the instruction it stands before. */
function positions(nodes: Node[]): Map<number, number> {
  const pos = new Map<number, number>();
  let p = 0;
  for (const n of nodes) {
    if (n.kind === 'label') pos.set(n.label.id, p);
    else p++;
  }
  return pos;
}

function firstCode(nodes: Node[], from: number): Node {
  const n = nodes.find((x, i) => i >= from && x.kind !== 'label');
  if (n) return n;
  throw new Error('seccomp BPF: label past the end of the program');
}
