import { closeSync, constants, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { posix } from 'node:path';
import { UserError, errnoCode, reason } from '../../lib/errors.js';

/** Reads and writes of cgroup control files. Files are opened without O_CREAT: on cgroupfs a
 * missing file means the kernel lacks the knob, and in the fake trees the tests build it
 * means the same. A failed write names the config field it came from. */

export function cgroupPath(dir: string, file: string): string {
  return posix.join(dir, file);
}

export function hasCgroupFile(dir: string, file: string): boolean {
  return existsSync(cgroupPath(dir, file));
}

/** The file's content without the trailing newline, or undefined if it does not exist. */
export function readCgroupFile(dir: string, file: string): string | undefined {
  try {
    return readFileSync(cgroupPath(dir, file), 'utf8').replace(/\n$/, '');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw new UserError(`read ${cgroupPath(dir, file)}: ${reason(err)}`);
  }
}

/** An unsigned counter such as memory.usage_in_bytes; "max" reads as undefined. */
export function readCgroupNumber(dir: string, file: string): number | undefined {
  const text = readCgroupFile(dir, file)?.trim();
  if (text === undefined || text === '' || text === 'max') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events) as a map. */
export function readKeyValues(dir: string, file: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (readCgroupFile(dir, file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** A write the kernel refused, kept apart so callers can retry in another order. */
export class CgroupWriteError extends UserError {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** Writes one value, or several lines as separate write(2)s: multi-entry files such as
 * devices.allow or io.max take one entry per write. */
export function writeCgroupFile(dir: string, file: string, value: string | string[], field: string): void {
  const path = cgroupPath(dir, file);
  const lines = Array.isArray(value) ? value : [value];
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT')
      throw new CgroupWriteError(`${field}: ${path} does not exist: this host's kernel or cgroup setup lacks it`, code);
    throw new CgroupWriteError(`${field}: open ${path}: ${reason(err)}`, code);
  }
  try {
    for (const line of lines) {
      try {
        writeSync(fd, Array.isArray(value) ? `${line}\n` : line);
      } catch (err) {
        throw new CgroupWriteError(`${field}: write "${line}" to ${path}: ${reason(err)}`, errnoCode(err));
      }
    }
  } finally {
    closeSync(fd);
  }
}
