import { readFileSync } from 'node:fs';
import { UserError, errnoCode, InvalidFieldError, reason } from '../../../lib/errors.js';
import { type OciSeccomp, type SeccompHost, ociSeccomp, thisHost } from './convert.js';
import { readSeccompProfile, type SeccompProfile } from './profile.js';

/** Where podman finds its default profile: an administrator's override first, then the one
 * containers-common (Debian: golang-github-containers-common, a dependency of podman) ships. */
export const DEFAULT_PROFILE_PATHS = ['/etc/containers/seccomp.json', '/usr/share/containers/seccomp.json'];

const FLAG = '--security-opt seccomp';

export interface ContainerSeccomp {
  /** linux.seccomp; undefined: the container runs without a filter */
  seccomp?: OciSeccomp;
  /** why a container that asked for no exception still has no filter */
  warning?: string;
}

export interface SeccompSettings {
  securityOpt: readonly string[];
  privileged: boolean;
  /** the container's bounding set, CAP_X */
  capabilities: readonly string[];
}

/**
 * The container's filter, as docker decides it: none when privileged or with
 * seccomp=unconfined; the profile given as seccomp=JSON (the CLI reads seccomp=FILE into
 * that, as docker's does, so a restart does not depend on the file still being there); else
 * the default profile. Without a default profile on the machine the container runs
 * unfiltered, with a warning.
 */
export function containerSeccomp(
  settings: SeccompSettings,
  defaults: readonly string[] = DEFAULT_PROFILE_PATHS,
  host: SeccompHost = thisHost(),
): ContainerSeccomp {
  const choice = seccompOption(settings.securityOpt);
  if (settings.privileged || choice === 'unconfined') return {};
  if (choice !== undefined) {
    const profile = parseProfileText(choice, FLAG);
    const seccomp = ociSeccomp(profile, settings.capabilities, host);
    return seccomp ? { seccomp } : {};
  }
  for (const path of defaults) {
    const profile = readDefaultProfile(path);
    if (profile === undefined) continue;
    const seccomp = ociSeccomp(profile, settings.capabilities, host);
    return seccomp ? { seccomp } : {};
  }
  return {
    warning: `no default seccomp profile (${defaults.join(', ')}): the container runs without a seccomp filter; install golang-github-containers-common`,
  };
}

/** The value of the last seccomp= (or docker's older seccomp:) option, if any. */
export function seccompOption(securityOpt: readonly string[]): string | undefined {
  let value: string | undefined;
  for (const o of securityOpt) {
    const m = /^seccomp[=:]/.exec(o);
    if (m) value = o.slice(m[0].length);
  }
  return value;
}

/** A profile's JSON text, read; errors name `source` and the field. */
export function parseProfileText(text: string, source: string): SeccompProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${source}: not a JSON seccomp profile: ${(e as Error).message}`, { kind: 'invalid', field: 'SecurityOpt' });
  }
  try {
    return readSeccompProfile(raw);
  } catch (e) {
    throw e instanceof InvalidFieldError ? e.from(source) : e;
  }
}

function readDefaultProfile(path: string): SeccompProfile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw new UserError(`seccomp default profile ${path}: ${reason(e)}`, { kind: 'host' });
  }
  try {
    return parseProfileText(text, `seccomp default profile ${path}`);
  } catch (e) {
    throw e instanceof UserError ? new UserError(e.message, { kind: 'host' }) : e;
  }
}
