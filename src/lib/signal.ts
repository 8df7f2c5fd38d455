import { readdirSync } from 'node:fs';
import { UserError, errnoCode, reason } from './errors.js';
import { readProcStat } from './proc-stat.js';

/** Sends sig to one process. Only to a plain pid: never 0 or a negative number, which kill(2)
 * reads as a process group or as every process, nor to the host's init or droplet itself,
 * whatever a corrupt file said. A process already gone is not an error. */
export function signalProcess(pid: number, sig: NodeJS.Signals | number): void {
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) return;
  try {
    process.kill(pid, sig);
  } catch (err) {
    if (errnoCode(err) !== 'ESRCH') throw new UserError(`signal pid ${pid}: ${reason(err)}`);
  }
}

/** The live members of process group pgid that started at or after `since` (the leader's
 * start time): what a hook started, even once the hook itself is gone. */
export function processGroupSince(pgid: number, since: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readProcStat(Number(name));
    if (st && st.pgrp === pgid && st.state !== 'Z' && /^\d+$/.test(st.startTime) && BigInt(st.startTime) >= BigInt(since))
      out.push(Number(name));
  }
  return out;
}
