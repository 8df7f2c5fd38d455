import { readFileSync } from 'node:fs';
import { UserError } from '../../lib/errors.js';

/** Linux's capabilities by number. */
const ALL = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
];

/** docker's default set. */
export const DEFAULT_CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
];

/** The capabilities this process may hand on: its bounding set (a machine without
 * CAP_SYS_RESOURCE cannot give it to a container). */
function boundingSet(): string[] {
  try {
    const line = readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('CapBnd:'));
    const mask = BigInt(`0x${line?.split(/\s+/)[1] ?? '0'}`);
    return ALL.filter((_, i) => (mask >> BigInt(i)) & 1n);
  } catch {
    return DEFAULT_CAPABILITIES;
  }
}

function normalise(name: string, flag: string): string {
  const upper = name.toUpperCase().replace(/^CAP_/, '');
  if (upper === 'ALL') return upper;
  if (!ALL.includes(upper)) throw new UserError(`${flag}: unknown capability "${name}"`, { kind: 'invalid', field: flag });
  return upper;
}

/** docker's rule: the default set (every capability when privileged), plus --cap-add, minus
 * --cap-drop; ALL on either side means every one. Names as CAP_X. */
export function containerCapabilities(add: string[], drop: string[], privileged: boolean): string[] {
  const bounding = boundingSet();
  const adds = add.map((c) => normalise(c, '--cap-add'));
  const drops = drop.map((c) => normalise(c, '--cap-drop'));
  let caps = new Set(privileged || adds.includes('ALL') ? bounding : DEFAULT_CAPABILITIES);
  if (drops.includes('ALL')) caps = new Set();
  for (const c of adds) if (c !== 'ALL') caps.add(c);
  for (const c of drops) caps.delete(c);
  return [...caps].filter((c) => bounding.includes(c)).map((c) => `CAP_${c}`);
}
