import { UserError } from '../../lib/errors.js';
import type { Spec } from '../../oci/spec.js';
import type { CgroupManager } from '../../linux/cgroups/manager.js';
import type { InitDied } from './launch.js';

const SIGKILL = 9;
const SIGSYS = 31;

/** An init that died before it was ready said nothing; what killed it says which field of
 * the config to look at. Read before the cgroup is removed. */
export function explainInitDeath(err: InitDied, spec: Spec, cgroups: CgroupManager): UserError {
  if (err.signal === SIGKILL && oomKills(cgroups)) {
    const limit = spec.linux.resources.memory?.limit;
    return new UserError(
      `init was killed by the OOM killer before the container was ready: the memory limit${limit ? ` of ${limit} bytes` : ''} is too low for it (linux.resources.memory.limit)`,
    );
  }
  /* only seccomp sends SIGSYS for a syscall */
  if (err.signal === SIGSYS && spec.linux.seccomp) {
    const def = (spec.linux.seccomp as { defaultAction?: unknown }).defaultAction;
    const field = typeof def === 'string' && def.startsWith('SCMP_ACT_KILL') ? 'linux.seccomp.defaultAction' : 'linux.seccomp.syscalls';
    return new UserError(
      `init was killed by SIGSYS before the container was ready: its seccomp filter kills a syscall the init makes after loading it (${field})`,
    );
  }
  return err;
}

function oomKills(cgroups: CgroupManager): number {
  try {
    return cgroups.oomKillCount() ?? 0;
  } catch {
    return 0;
  }
}
