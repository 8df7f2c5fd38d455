import { UserError } from '../../lib/errors.js';

/** How many times one request is tried again after a transient failure. */
export const RETRIES = 4;

/** A failure worth trying again: the connection broke, or the registry is busy (5xx, 429). */
export class TransientError extends UserError {
  constructor(
    message: string,
    /** what the registry asked us to wait (Retry-After), in ms */
    readonly waitMs?: number,
    opts: { cause?: unknown } = {},
  ) {
    super(message, { kind: 'host', ...opts });
  }
}

export function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** 250 ms, 500 ms, 1 s, 2 s ... with some jitter so parallel downloads do not retry in step;
 * a Retry-After of up to 10 s is honoured. */
export function backoffMs(attempt: number, err?: unknown): number {
  const asked = err instanceof TransientError ? err.waitMs : undefined;
  if (asked !== undefined && asked <= 10_000) return asked;
  return 250 * 2 ** attempt * (0.8 + Math.random() * 0.4);
}

export function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const s = Number(header);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const t = Date.parse(header);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
