import { constants } from 'node:os';
import { UsageError } from './errors.js';

/** "TERM", "SIGTERM", "sigterm" or "15" (podman and containerd pass numbers). `what` names
 * the command in errors, e.g. "kill". */
export function parseSignal(text: string, what: string): NodeJS.Signals | number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1 || n > 64) throw new UsageError(`${what}: invalid signal "${text}"`);
    return n;
  }
  const upper = text.toUpperCase();
  const name = (upper.startsWith('SIG') ? upper : `SIG${upper}`) as NodeJS.Signals;
  if (!(name in constants.signals)) throw new UsageError(`${what}: unknown signal "${text}"`);
  return name;
}
