export { timeAgo } from '../lib/time-ago.js';
import { writeSync } from 'node:fs';

/** Output is written synchronously: the program exits as soon as its command is done. */
export function out(text: string): void {
  writeSync(1, text);
}

export function err(text: string): void {
  writeSync(2, text);
}

/** Columns padded to their widest cell, separated by three spaces, as docker's tables. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  return `${all
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
        .join('   ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

export const SI_UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];
export const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes in the largest of `units` (each `base` times the one before) that keeps the number
 * at 1 or more; `digits` writes a scaled number (bytes are written whole). */
export function scaledSize(bytes: number, base: number, units: string[], digits: (n: number) => string): string {
  let n = bytes;
  let u = 0;
  while (n >= base && u < units.length - 1) {
    n /= base;
    u++;
  }
  return `${u === 0 ? n : digits(n)}${units[u]}`;
}

/** Sizes in docker's SI units: 4.26MB. */
export function humanSize(bytes: number): string {
  return scaledSize(bytes, 1000, SI_UNITS, (n) => n.toPrecision(3));
}
