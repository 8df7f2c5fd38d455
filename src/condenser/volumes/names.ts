import { randomBytes } from 'node:crypto';
import { UserError } from '../../lib/errors.js';

/** docker's rule for volume names: two characters at least, the first alphanumeric. */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** The label docker (23+) gives the volumes it makes for a container: `volume prune`
 * removes only these unless told --all, and `rm -v` removes them with their container. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export function isVolumeName(text: string): boolean {
  return VOLUME_NAME.test(text);
}

export function validateVolumeName(text: string): string {
  if (!isVolumeName(text))
    throw new UserError(`invalid volume name "${text}": use [a-zA-Z0-9][a-zA-Z0-9_.-]+`, { kind: 'invalid', field: 'Name' });
  return text;
}

/** An anonymous volume's name: 64 hex characters, as docker's. */
export function anonymousVolumeName(): string {
  return randomBytes(32).toString('hex');
}
