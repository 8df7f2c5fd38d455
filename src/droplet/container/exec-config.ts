import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, reason } from '../../lib/errors.js';
import type { NamespaceType, Process } from '../../oci/spec.js';
import type { CompiledSeccomp } from '../seccomp/compile.js';

/** What exec needs of a container, saved at create: the bundle may be moved or changed
 * afterwards (runc keeps the same in its state), and exec then neither reads it nor checks
 * it against the host again, nor compiles the seccomp profile again. */
export interface ExecConfig {
  /** the config's process: exec's defaults */
  process: Process;
  /** the container's namespaces, in the order exec joins them */
  namespaces: NamespaceType[];
  seccomp?: CompiledSeccomp;
}

const FILE = 'exec.json';

/* JSON has no bigint (64-bit rlimits) and no bytes (the BPF program): tagged objects. */
function replacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return { $bigint: v.toString() };
  if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data))
    return { $base64: Buffer.from((v as { data: number[] }).data).toString('base64') };
  return v;
}

function reviver(_key: string, v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.$bigint === 'string') return BigInt(o.$bigint);
    if (typeof o.$base64 === 'string') return Buffer.from(o.$base64, 'base64');
  }
  return v;
}

export function saveExecConfig(dir: string, cfg: ExecConfig): void {
  const file = join(dir, FILE);
  try {
    writeFileSync(file, JSON.stringify(cfg, replacer));
  } catch (err) {
    throw new UserError(`write ${file}: ${reason(err)}`);
  }
}

export function loadExecConfig(dir: string): ExecConfig {
  const file = join(dir, FILE);
  try {
    return JSON.parse(readFileSync(file, 'utf8'), reviver) as ExecConfig;
  } catch (err) {
    throw new UserError(`read the container's exec settings ${file}: ${reason(err)}`);
  }
}
