import { invalid } from '../../lib/json-reader.js';
import { Tag } from './tags.js';

/** One plan record: what the init does, and how to explain its failure to the user. */
export interface PlanRecord {
  tag: Tag;
  /** in the order and of the kinds protocol.ts gives for the tag */
  fields: Array<string | number | bigint | Buffer>;
  /** e.g. `mount "proc" on /proc` */
  what: string;
  /** the config field it came from, e.g. `mounts[0]` */
  field?: string;
}

/** Encodes records in the wire format of native/init/plan.h: "DPL1", then
 * [u16 tag][u16 0][u32 len][fields], each field [u32 len][bytes]; strings end in NUL, byte
 * fields (Buffer) are copied as they are,
 * numbers are u64 little endian. The result is prefixed with its u32 length. It runs on
 * every create, so it sizes the buffer once and writes in place. */
export function encodePlan(records: PlanRecord[]): Buffer {
  let size = 8;
  for (const rec of records) {
    size += 8;
    for (const f of rec.fields) size += 4 + (typeof f === 'string' ? Buffer.byteLength(f) + 1 : Buffer.isBuffer(f) ? f.length : 8);
  }
  if (size - 4 > PLAN_MAX) throw tooLarge(records);
  const b = Buffer.alloc(size);
  b.writeUInt32LE(size - 4, 0);
  b.write('DPL1', 4, 'latin1');
  let off = 8;
  for (const rec of records) {
    const start = off;
    b.writeUInt16LE(rec.tag, off);
    off += 8;
    for (const f of rec.fields) {
      if (Buffer.isBuffer(f)) {
        b.writeUInt32LE(f.length, off);
        f.copy(b, off + 4);
        off += 4 + f.length;
      } else if (typeof f === 'string') {
        const n = b.write(f, off + 4, 'utf8');
        b.writeUInt32LE(n + 1, off);
        off += 4 + n + 1; /* the NUL is already there: Buffer.alloc zero-fills */
      } else {
        b.writeUInt32LE(8, off);
        if (typeof f === 'bigint') b.writeBigUInt64LE(BigInt.asUintN(64, f), off + 4);
        else {
          /* a number may be negative (-1 for "unset"): two's complement over 64 bits */
          b.writeUInt32LE(f >>> 0, off + 4);
          b.writeUInt32LE(Math.floor(f / 0x100000000) >>> 0, off + 8);
        }
        off += 12;
      }
    }
    b.writeUInt32LE(off - start - 8, start + 4);
  }
  return b;
}

/** droplet-init's limit on a plan (read_plan in native/init/main.c). */
const PLAN_MAX = 64 << 20;

const fieldSize = (f: PlanRecord['fields'][number]) =>
  4 + (typeof f === 'string' ? Buffer.byteLength(f) + 1 : Buffer.isBuffer(f) ? f.length : 8);

/** A plan over the limit: the field of its largest record is what made it so. */
function tooLarge(records: PlanRecord[]): Error {
  let largest = records[0]!; // a plan over the limit has records
  let most = 0;
  for (const rec of records) {
    const n = rec.fields.reduce<number>((sum, f) => sum + fieldSize(f), 0);
    if (n > most) [largest, most] = [rec, n];
  }
  let field = largest.field ?? largest.what;
  if (largest.tag === Tag.Exec) {
    /* [argc, args..., envc, env...]: which of the two is it */
    const argc = Number(largest.fields[0]);
    const args = largest.fields.slice(1, 1 + argc).reduce<number>((sum, f) => sum + fieldSize(f), 0);
    field = args * 2 > most ? 'process.args' : 'process.env';
  }
  const mib = (n: number) => (n / (1 << 20)).toFixed(1);
  return invalid(field, `${mib(most)} MiB is too large (the launch plan is at most ${PLAN_MAX >> 20} MiB)`);
}
