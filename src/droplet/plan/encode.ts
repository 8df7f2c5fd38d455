import type { Tag } from './tags.js';

/** One plan record: what the init does, and how to explain its failure to the user. */
export interface PlanRecord {
  tag: Tag;
  fields: Array<string | number | bigint>;
  /** e.g. `mount "proc" on /proc` */
  what: string;
  /** the config field it came from, e.g. `mounts[0]` */
  field?: string;
}

/** Encodes records in the wire format of native/init/plan.h: "DPL1", then
 * [u16 tag][u16 0][u32 len][fields], each field [u32 len][bytes]; strings end in NUL,
 * numbers are u64 little endian. The result is prefixed with its u32 length. */
export function encodePlan(records: PlanRecord[]): Buffer {
  const parts: Buffer[] = [Buffer.from('DPL1')];
  for (const rec of records) {
    const fields = rec.fields.map(encodeField);
    const len = fields.reduce((n, f) => n + f.length, 0);
    const head = Buffer.alloc(8);
    head.writeUInt16LE(rec.tag, 0);
    head.writeUInt32LE(len, 4);
    parts.push(head, ...fields);
  }
  const body = Buffer.concat(parts);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(body.length, 0);
  return Buffer.concat([size, body]);
}

function encodeField(v: string | number | bigint): Buffer {
  if (typeof v === 'string') {
    const bytes = Buffer.from(v + '\0');
    const b = Buffer.alloc(4 + bytes.length);
    b.writeUInt32LE(bytes.length, 0);
    bytes.copy(b, 4);
    return b;
  }
  const b = Buffer.alloc(12);
  b.writeUInt32LE(8, 0);
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), 4);
  return b;
}
