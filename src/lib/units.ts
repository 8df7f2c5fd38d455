import { UsageError } from './errors.js';

/* Sizes and durations as people type them on command lines (docker's, runc's, Go's forms).
 * `what` names the argument in errors, e.g. "update: --memory". */

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Bytes, or with a binary unit as runc and docker take them: "512m", "1g", "64kb"; -1 is
 * no limit. */
export function parseSize(text: string, what: string): number {
  if (text === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${what}: "${text}" is not a size such as 4194304, 512m or 1g`);
  return Math.floor(Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toLowerCase()] ?? 1));
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("5s", "500ms", "1m30s"), in milliseconds; it must be positive. */
export function parseDuration(text: string, what: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let ms = 0;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new UsageError(`${what}: "${text}" is not a duration such as "5s" or "500ms"`);
    ms += Number(m[1]) * (DURATION_UNITS[m[2] ?? ''] ?? 0);
    at = re.lastIndex;
  }
  if (!(ms > 0)) throw new UsageError(`${what}: "${text}" is not a duration greater than 0`);
  return Math.max(1, Math.round(ms));
}
