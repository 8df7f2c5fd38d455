import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** R, S, D, Z, X, T, ... */
  state: string;
  /** the process group */
  pgrp: number;
  /** clock ticks since boot: with the pid, identifies one process across PID reuse */
  startTime: string;
}

/** Reads /proc/<pid>/stat; undefined when the process is gone, or its line is cut short. */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  /* comm may hold spaces and parentheses: fields start after the last ")" */
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, , pgrp] = fields;
  const startTime = fields[19];
  if (state === undefined || pgrp === undefined || startTime === undefined) return undefined;
  return { state, pgrp: Number(pgrp), startTime };
}

/** The process with this pid and start time exists and has not exited (a zombie has). */
export function isAlive(pid: number, startTime: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const st = readProcStat(pid);
  return !!st && st.startTime === startTime && st.state !== 'Z' && st.state !== 'X';
}

/** The process exists and is not a zombie, whoever it is. */
export function isRunning(pid: number): boolean {
  const st = readProcStat(pid);
  return !!st && st.state !== 'Z' && st.state !== 'X';
}
