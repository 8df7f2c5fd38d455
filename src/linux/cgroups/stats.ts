import { readdirSync } from 'node:fs';
import { readCgroupFile } from './cgroup-file.js';

/** The container's resource usage in runc's `events --stats` shape (runc types/events.go):
 * what the v1 and v2 readers (v1/stats.ts, v2/stats.ts) share. Counters are bigint: cgroup
 * files hold uint64 values ("max" is 2^64-1, as runc reports it) that a JS number cannot
 * carry. */

export const U64_MAX = (1n << 64n) - 1n;

export function big(dir: string | undefined, file: string): bigint {
  if (!dir) return 0n;
  const t = readCgroupFile(dir, file)?.trim();
  if (t === undefined || t === '') return 0n;
  if (t === 'max') return U64_MAX;
  return /^-?\d+$/.test(t) ? BigInt(t) : 0n;
}

export function keyValues(dir: string | undefined, file: string): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  if (!dir) return out;
  for (const line of (readCgroupFile(dir, file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = BigInt(v);
  }
  return out;
}

/** Go's omitempty: zero values and empty lists are left out. */
export function compact<T extends object>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o))
    if (!(v === 0n || v === 0 || v === '' || v === undefined || (Array.isArray(v) && v.length === 0))) out[k] = v;
  return out as Partial<T>;
}

export interface BlkioEntry {
  major: bigint;
  minor: bigint;
  op: string;
  value: bigint;
}

/** The list format of "0-3,5". */
export function expandList(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? '').trim().split(',').filter(Boolean)) {
    const [a = 0, b = a] = part.split('-').map(Number);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

/** Huge page sizes as the cgroup files spell them ("2MB", "1GB"), from /sys/kernel/mm/hugepages. */
export function hugePageSizes(): string[] {
  try {
    return readdirSync('/sys/kernel/mm/hugepages')
      .map((n) => /^hugepages-(\d+)kB$/.exec(n))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => {
        const kb = Number(m[1]);
        return kb >= 1 << 20 ? `${kb >> 20}GB` : kb >= 1 << 10 ? `${kb >> 10}MB` : `${kb}KB`;
      });
  } catch {
    return [];
  }
}

/** pids.max: "max" is reported as 0, no limit (runc). */
export function pidsLimit(dir: string | undefined, file: string): bigint {
  const v = big(dir, file);
  return v === U64_MAX ? 0n : v;
}

/** JSON with bigint counters written as plain numbers, as Go's encoder writes uint64. */
export function statsJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `\u0000${v}\u0000` : v)).replace(/"\\u0000(-?\d+)\\u0000"/g, '$1');
}
