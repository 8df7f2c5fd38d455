import { createHash } from 'node:crypto';
import type { PlanRecord } from '../../src/droplet/plan/encode.js';
import { RECORDS, type FieldKind, type RecordSchema } from '../../src/droplet/plan/protocol.js';

/** Launch plans as readable JSON, checked against protocol.ts: the tag by its name, the
 * fields by theirs. A record whose fields are not its schema's, in kind, order or number,
 * throws: what the C init would misread fails here instead. */

const BY_TAG = new Map(RECORDS.map((r) => [r.tag, r]));

type Value = PlanRecord['fields'][number];
type Json = number | string | { bytes: number; sha256: string };

export interface RecordJson {
  tag: string;
  fields: Record<string, Json | Json[]>;
  what?: string;
  field?: string;
}

function schemaOf(tag: number): RecordSchema {
  const s = BY_TAG.get(tag);
  if (!s) throw new Error(`tag ${tag} is not in protocol.ts`);
  return s;
}

/** A u64 as the init reads it: unsigned; a number where that is exact. */
function u64Json(v: number | bigint): Json {
  const u = BigInt.asUintN(64, BigInt(v));
  return u <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(u) : u.toString();
}

const bytesJson = (b: Uint8Array): Json => ({ bytes: b.length, sha256: createHash('sha256').update(b).digest('hex') });

/** Names the values by the schema of tag; take(kind, name) gives the next value of a kind. */
function named(schema: RecordSchema, take: (kind: FieldKind, name: string) => Json, more: () => boolean): RecordJson['fields'] {
  const out: RecordJson['fields'] = {};
  for (const f of schema.fields) {
    if (!f.count) {
      out[f.name] = take(f.kind, f.name);
      continue;
    }
    const n = out[f.count];
    if (typeof n !== 'number') throw new Error(`${schema.name}.${f.count}: not a count`);
    out[f.name] = Array.from({ length: n }, () => take(f.kind, f.name));
  }
  if (more()) throw new Error(`${schema.name}: more fields than protocol.ts gives it`);
  return out;
}

/** A record as droplet built it. */
export function recordJson(rec: PlanRecord): RecordJson {
  const schema = schemaOf(rec.tag);
  let at = 0;
  const take = (kind: FieldKind, name: string): Json => {
    const v: Value | undefined = rec.fields[at++];
    if (v === undefined) throw new Error(`${schema.name}.${name}: missing`);
    if (kind === 'u64' && ((typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint')) return u64Json(v);
    if (kind === 'str' && typeof v === 'string') return v;
    if (kind === 'bytes' && Buffer.isBuffer(v)) return bytesJson(v);
    throw new Error(`${schema.name}.${name}: ${kind} expected, got ${Buffer.isBuffer(v) ? 'bytes' : typeof v}`);
  };
  const fields = named(schema, take, () => at < rec.fields.length);
  return { tag: schema.name, fields, what: rec.what, field: rec.field };
}

export const planJson = (records: PlanRecord[]): RecordJson[] => records.map(recordJson);

/** An encoded plan read the way droplet-init reads it, by the schema of each tag. */
export function decodePlan(buf: Buffer): RecordJson[] {
  if (buf.readUInt32LE(0) !== buf.length - 4 || buf.toString('latin1', 4, 8) !== 'DPL1') throw new Error('not a plan');
  const out: RecordJson[] = [];
  for (let off = 8; off < buf.length; ) {
    const schema = schemaOf(buf.readUInt16LE(off));
    const end = off + 8 + buf.readUInt32LE(off + 4);
    let p = off + 8;
    const take = (kind: FieldKind, name: string): Json => {
      if (p + 4 > end) throw new Error(`${schema.name}.${name}: missing`);
      const len = buf.readUInt32LE(p);
      const f = buf.subarray(p + 4, p + 4 + len);
      p += 4 + len;
      if (kind === 'u64') {
        if (len !== 8) throw new Error(`${schema.name}.${name}: u64 of ${len} bytes`);
        return u64Json(f.readBigUInt64LE(0));
      }
      if (kind === 'str') {
        if (len === 0 || f[len - 1] !== 0) throw new Error(`${schema.name}.${name}: str without its NUL`);
        return f.toString('utf8', 0, len - 1);
      }
      return bytesJson(f);
    };
    out.push({ tag: schema.name, fields: named(schema, take, () => p < end) });
    off = end;
  }
  return out;
}
