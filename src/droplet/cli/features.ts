import { writeSync } from 'node:fs';
import { UsageError } from '../../lib/errors.js';
import { HOOK_KINDS, NAMESPACE_TYPES } from '../../oci/spec.js';
import { CAPABILITIES } from '../plan/capabilities.js';
import { parseMountOptions } from '../plan/mount-options.js';
import { seccompModule } from '../seccomp-module.js';
import { parseCommand } from './args.js';

/** The mount option names the runtime-spec knows (features.md, plus idmap and ridmap). */
const SPEC_MOUNT_OPTIONS = [
  'acl',
  'async',
  'atime',
  'bind',
  'defaults',
  'dev',
  'diratime',
  'dirsync',
  'exec',
  'idmap',
  'iversion',
  'lazytime',
  'loud',
  'mand',
  'noacl',
  'noatime',
  'nodev',
  'nodiratime',
  'noexec',
  'noiversion',
  'nolazytime',
  'nomand',
  'norelatime',
  'nostrictatime',
  'nosuid',
  'nosymfollow',
  'private',
  'ratime',
  'rbind',
  'rdev',
  'rdiratime',
  'relatime',
  'remount',
  'rexec',
  'ridmap',
  'rnoatime',
  'rnodev',
  'rnodiratime',
  'rnoexec',
  'rnorelatime',
  'rnostrictatime',
  'rnosuid',
  'rnosymfollow',
  'ro',
  'rprivate',
  'rrelatime',
  'rro',
  'rrw',
  'rshared',
  'rslave',
  'rstrictatime',
  'rsuid',
  'rsymfollow',
  'runbindable',
  'rw',
  'shared',
  'silent',
  'slave',
  'strictatime',
  'suid',
  'symfollow',
  'sync',
  'tmpcopyup',
  'unbindable',
];

/** An option droplet recognises: its parser takes it (as a flag, a propagation or a
 * recursive attribute) instead of refusing it or passing it to the filesystem as data. */
function recognised(option: string): boolean {
  try {
    return parseMountOptions([option], 'features').data === '';
  } catch {
    return false;
  }
}

/** The runtime-spec features document (features.md, features-linux.md): what this build of
 * droplet implements, whatever the host offers. containerd and CRI-O read it. The lists come
 * from the tables droplet itself validates with, so they cannot drift from what it accepts. */
export function featuresDocument(version: string) {
  const { ACTION_NAMES, ARCHES, FILTER_FLAGS, OPERATORS } = seccompModule();
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.2.1',
    hooks: [...HOOK_KINDS],
    mountOptions: SPEC_MOUNT_OPTIONS.filter(recognised),
    linux: {
      namespaces: [...NAMESPACE_TYPES],
      capabilities: [...CAPABILITIES],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
      seccomp: {
        enabled: true,
        actions: [...ACTION_NAMES],
        operators: [...OPERATORS].map((o) => `SCMP_CMP_${o}`),
        archs: Object.keys(ARCHES),
        knownFlags: [...Object.keys(FILTER_FLAGS), 'SECCOMP_FILTER_FLAG_NEW_LISTENER'],
        supportedFlags: Object.keys(FILTER_FLAGS),
      },
      apparmor: { enabled: true },
      selinux: { enabled: true },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: {
      'org.raind.droplet.version': version,
    },
  };
}

export function features(argv: string[], version: string): number {
  const { positionals } = parseCommand('features', argv, {});
  if (positionals.length) throw new UsageError(`features: unexpected argument "${positionals[0]}"`);
  writeSync(1, `${JSON.stringify(featuresDocument(version), null, 2)}\n`);
  return 0;
}
