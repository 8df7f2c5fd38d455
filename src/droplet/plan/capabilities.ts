import { invalid } from '../../lib/json-reader.js';
import type { Capabilities } from '../../oci/spec.js';

/** Capability numbers, from <linux/capability.h>. */
export const CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

/** The five sets as bit masks, in the order of the plan's caps record. Unknown names are an
 * error that names them all. */
export function capabilityMasks(caps: Capabilities): bigint[] {
  const sets = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;
  const masks = sets.map((set) => {
    let mask = 0n;
    const unknown: string[] = [];
    for (const name of caps[set]) {
      const n = (CAPABILITIES as readonly string[]).indexOf(name.toUpperCase());
      if (n < 0) unknown.push(name);
      else mask |= 1n << BigInt(n);
    }
    if (unknown.length) throw invalid(`process.capabilities.${set}`, `unknown capabilities: ${unknown.join(', ')}`);
    return mask;
  });
  // one mask per set
  const [bounding, effective, inheritable, permitted] = masks as [bigint, bigint, bigint, bigint, bigint];
  /* what capset(2) refuses, said before the init runs: effective within permitted, and (with
   * the bounding set already dropped) inheritable within bounding */
  const outside = (set: bigint, of: bigint) => CAPABILITIES.filter((_, n) => (set >> BigInt(n)) & 1n && !((of >> BigInt(n)) & 1n));
  const notPermitted = outside(effective, permitted);
  if (notPermitted.length)
    throw invalid(
      'process.capabilities.effective',
      `${notPermitted.join(', ')} ${notPermitted.length > 1 ? 'are' : 'is'} not in the permitted set`,
    );
  const notBounding = outside(inheritable, bounding);
  if (notBounding.length)
    throw invalid(
      'process.capabilities.inheritable',
      `${notBounding.join(', ')} ${notBounding.length > 1 ? 'are' : 'is'} not in the bounding set`,
    );
  return masks;
}
