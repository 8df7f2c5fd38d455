import { closeSync, openSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, reason } from '../../lib/errors.js';

/** A process a container's state directory names, so that a later command finds it even
 * when the droplet that started it was killed and state.json cannot be read: the init, and
 * each hook droplet runs. A record is an empty file named <kind>.<pid>.<start time>: making a
 * name is atomic and needs no room for data, so a record is whole or absent, whatever tore
 * the writes around it (kill -9, a full disk). */
export type RecordKind = 'init' | 'hook';

export interface ProcessRecord {
  pid: number;
  /** field 22 of /proc/<pid>/stat when it was recorded, against PID reuse */
  startTime: string;
  file: string;
}

export function recordProcess(dir: string, kind: RecordKind, pid: number, startTime: string): string {
  const file = join(dir, `${kind}.${pid}.${startTime}`);
  try {
    closeSync(openSync(file, 'w', 0o600));
  } catch (err) {
    throw new UserError(`record the ${kind} process ${pid} in ${dir}: ${reason(err)}`);
  }
  return file;
}

/** The records of one kind; a directory that cannot be read has none. */
export function recordedProcesses(dir: string, kind: RecordKind): ProcessRecord[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: ProcessRecord[] = [];
  for (const name of names) {
    const m = /^(\w+)\.([1-9]\d*)\.(\d+)$/.exec(name);
    // the groups are not optional: all are set when the name matches
    if (m && m[1] === kind) out.push({ pid: Number(m[2]), startTime: m[3]!, file: join(dir, name) });
  }
  return out;
}

export function forgetProcess(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* the directory is gone with it */
  }
}
