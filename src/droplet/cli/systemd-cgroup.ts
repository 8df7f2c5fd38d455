import { existsSync } from 'node:fs';
import { UserError } from '../../lib/errors.js';

/** --systemd-cgroup (runc's global flag: cgroupsPath as "slice:prefix:name", cgroups made by
 * systemd over D-Bus). droplet manages cgroupfs paths only, so the flag is refused, with
 * the reason that applies to this host. */
export function systemdCgroupError(): UserError {
  const why = existsSync('/run/systemd/system')
    ? 'droplet does not implement the systemd cgroup driver'
    : 'systemd is not running on this host (no /run/systemd/system)';
  return new UserError(`--systemd-cgroup is not supported: ${why}; leave it out, and droplet manages the cgroups itself (cgroupfs paths)`);
}
