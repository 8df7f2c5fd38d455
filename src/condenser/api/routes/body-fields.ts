import { ApiError } from '../http-io.js';

type FieldType = 'string' | 'boolean' | 'number' | 'object';

/** A field of a JSON body that may be absent (or null); of another JSON type, a 400 naming
 * it (`prefix` is where the object sits in the body). */
export function optional(body: Record<string, unknown>, key: string, type: 'string', prefix?: string): string | undefined;
export function optional(body: Record<string, unknown>, key: string, type: 'boolean', prefix?: string): boolean | undefined;
export function optional(body: Record<string, unknown>, key: string, type: 'number', prefix?: string): number | undefined;
export function optional(body: Record<string, unknown>, key: string, type: 'object', prefix?: string): object | undefined;
export function optional(body: Record<string, unknown>, key: string, type: FieldType, prefix = ''): unknown {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  const ok = type === 'object' ? typeof value === 'object' && !Array.isArray(value) : typeof value === type;
  if (!ok) throw new ApiError(400, `${prefix}${key}: must be ${type === 'object' ? 'an object' : `a ${type}`}`);
  return value;
}

/** A `label` filter: `KEY` (present) or `KEY=VALUE`. */
export function labelFilter(text: string): (labels: Record<string, string> | null) => boolean {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  const value = eq < 0 ? undefined : text.slice(eq + 1);
  return (labels) => labels !== null && Object.hasOwn(labels, key) && (value === undefined || labels[key] === value);
}

/** A map of strings in a body, or a 400 naming the field. */
export function stringMap(body: Record<string, unknown>, key: string): Record<string, string> {
  const map = optional(body, key, 'object') as Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(map ?? {})) if (typeof v !== 'string') throw new ApiError(400, `${key}.${k}: must be a string`);
  return (map ?? {}) as Record<string, string>;
}
