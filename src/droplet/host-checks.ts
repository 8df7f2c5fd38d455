import { type Stats, existsSync, statSync } from 'node:fs';
import { reason } from '../lib/errors.js';
import { invalid } from '../lib/json-reader.js';
import type { Process, Spec } from '../oci/spec.js';

/* Where the kernel shows an LSM that is enabled. */
const APPARMOR = '/sys/kernel/security/apparmor';
const SELINUX = '/sys/fs/selinux/enforce';

/** What a validated config asks of this host: the files it names exist, the LSMs it labels
 * for are enabled. validateSpec leaves these out so that it reads nothing; droplet checks
 * them before it builds a plan, so that create fails naming the field, not mid-way. */
export function checkSpecOnHost(spec: Spec): void {
  if (spec.linux.mountLabel && !existsSync(SELINUX)) throw invalid('linux.mountLabel', 'SELinux is not enabled on this host');
  spec.linux.namespaces.forEach((n, i) => {
    if (!n.path) return;
    try {
      statSync(n.path);
    } catch (err) {
      throw invalid(`linux.namespaces[${i}].path`, `${n.path}: ${reason(err)}`);
    }
  });
  checkRootfs(spec.root.path);
  checkLsmLabels(spec.process);
}

function checkRootfs(path: string): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw invalid('root.path', `${path}: ${reason(err)}`);
  }
  if (!st.isDirectory()) throw invalid('root.path', `${path}: not a directory`);
}

/** An LSM label is applied where the LSM is enabled, and refused where it is not. */
export function checkLsmLabels(p: Pick<Process, 'apparmorProfile' | 'selinuxLabel'>): void {
  if (p.apparmorProfile && !existsSync(APPARMOR)) throw invalid('process.apparmorProfile', 'AppArmor is not enabled on this host');
  if (p.selinuxLabel && !existsSync(SELINUX)) throw invalid('process.selinuxLabel', 'SELinux is not enabled on this host');
}
