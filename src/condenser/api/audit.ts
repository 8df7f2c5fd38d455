import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Peer } from './request.js';

/** One request that changes state, as a line of `<root>/audit.log`. */
export interface AuditEntry {
  time: string;
  who: Peer;
  method: string;
  path: string;
  target?: string;
  status: number;
  error?: string;
}

/** Appends JSON lines: each write is one `write(2)` in append mode, so lines of concurrent
 * requests (and of several servers on one store) never interleave. */
export class AuditLog {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  append(entry: AuditEntry): void {
    appendFileSync(this.path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  }
}
