import { InvalidFieldError } from './errors.js';

/** Typed reads from parsed JSON that name the offending field by its JSON path. */

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function invalid(path: string, message: string): InvalidFieldError {
  return new InvalidFieldError(path, message);
}

export type Obj = Record<string, unknown>;

export function asObject(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(path, `expected object, got ${describe(v)}`);
  return v as Obj;
}

export function optObject(o: Obj, key: string, path: string): Obj | undefined {
  const v = o[key];
  return v === undefined || v === null ? undefined : asObject(v, `${path}${key}`);
}

/** A string of the config: paths, names, args, values the kernel takes as C strings, where a
 * NUL would silently cut them short (or, in Node, throw about a path). */
export function asString(v: unknown, path: string): string {
  if (typeof v !== 'string') throw invalid(path, `expected string, got ${describe(v)}`);
  if (v.includes('\0')) throw invalid(path, 'contains a NUL byte');
  return v;
}

export function optString(o: Obj, key: string, path: string): string | undefined {
  const v = o[key];
  return v === undefined || v === null ? undefined : asString(v, `${path}${key}`);
}

export function optBool(o: Obj, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(`${path}${key}`, `expected boolean, got ${describe(v)}`);
  return v;
}

export function asInteger(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(path, `expected integer, got ${describe(v)}`);
  if (v < min || v > max) throw invalid(path, `${v} is out of range [${min}, ${max}]`);
  return v;
}

/** An integer of up to 64 bits: a number where that is exact, else a bigint (as
 * parseExactJson gives them). */
export type Int64 = number | bigint;

export function asInt64(v: unknown, path: string, min: bigint, max: bigint): Int64 {
  if (typeof v === 'bigint') {
    if (v < min || v > max) throw invalid(path, `${v} is out of range [${min}, ${max}]`);
    return v;
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(path, `expected integer, got ${describe(v)}`);
  if (!Number.isSafeInteger(v)) throw invalid(path, `${v} is not exact: a number above 2^53 needs a reader that keeps every digit`);
  if (BigInt(v) < min || BigInt(v) > max) throw invalid(path, `${v} is out of range [${min}, ${max}]`);
  return v;
}

export function optInt64(o: Obj, key: string, path: string, min: bigint, max: bigint): Int64 | undefined {
  const v = o[key];
  return v === undefined || v === null ? undefined : asInt64(v, `${path}${key}`, min, max);
}

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const UINT64_MAX = 2n ** 64n - 1n;

export function optInteger(o: Obj, key: string, path: string, min: number, max: number): number | undefined {
  const v = o[key];
  return v === undefined || v === null ? undefined : asInteger(v, `${path}${key}`, min, max);
}

export function optArray(o: Obj, key: string, path: string): unknown[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalid(`${path}${key}`, `expected array, got ${describe(v)}`);
  return v;
}

export function optStrings(o: Obj, key: string, path: string): string[] | undefined {
  return optArray(o, key, path)?.map((v, i) => asString(v, `${path}${key}[${i}]`));
}

/** A field droplet knows but cannot honour yet: refusing it beats running a container that
 * silently lacks what its config asked for. */
export function refuseIfSet(o: Obj, key: string, path: string): void {
  const v = o[key];
  if (v === undefined || v === null) return;
  if (Array.isArray(v) && v.length === 0) return;
  if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as Obj).length === 0) return;
  if (v === false || v === '') return;
  throw invalid(`${path}${key}`, 'not supported by this version of droplet');
}

export const UINT32_MAX = 0xffffffff;
