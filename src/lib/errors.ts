/** What kind of failure an error is. Callers decide by it (a delete --force that finds
 * nothing, the engine's HTTP status), never by the message text. */
export type ErrorKind =
  /** bad input: a config field, a flag, an id */
  | 'invalid'
  /** what was named does not exist */
  | 'not-found'
  /** it exists, but its state forbids the operation (running, locked, in use) */
  | 'conflict'
  /** the host refused a step that was valid: a syscall, a file, a cgroup write */
  | 'host';

export interface FailureDetail {
  kind?: ErrorKind;
  /** the config field (JSON path) the failure comes from, e.g. `mounts[0]` */
  field?: string;
  /** the underlying error */
  cause?: unknown;
  exitCode?: number;
}

/** A failure meant for the user: one line that says what was being done, on what, and why.
 * The parts a program needs are kept apart from the text. */
export class UserError extends Error {
  readonly kind: ErrorKind;
  readonly field?: string;
  readonly exitCode: number;

  constructor(message: string, detail: FailureDetail = {}) {
    super(message, detail.cause === undefined ? undefined : { cause: detail.cause });
    this.kind = detail.kind ?? 'host';
    this.field = detail.field;
    this.exitCode = detail.exitCode ?? 1;
  }
}

/** A command line that does not parse: its message already names the command, and no
 * container was touched. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, { kind: 'invalid' });
  }
}

/** Something named by the user that does not exist (a container id, a file). */
export class NotFoundError extends UserError {
  constructor(message: string) {
    super(message, { kind: 'not-found' });
  }
}

/** A field of a JSON document that is invalid: `config.json: mounts[0].destination: ...`.
 * The document is named apart, so a caller that read the same shape from another source
 * (a resources file) names that one instead. */
export class InvalidFieldError extends UserError {
  constructor(
    readonly path: string,
    readonly problem: string,
    readonly source = 'config.json',
  ) {
    super(`${source}: ${path}: ${problem}`, { kind: 'invalid', field: path });
  }

  from(source: string): InvalidFieldError {
    return new InvalidFieldError(this.path, this.problem, source);
  }
}

/** An error that is no UserError is a bug in the program, not a problem of the input or the
 * host: it is reported as one, with where it happened. System errors (with an errno code)
 * that were not given context are reported by their cause. */
export function isBug(err: unknown): boolean {
  return !(err instanceof UserError) && !(err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string');
}

/** The line for a bug: what it is, and the first frame of its stack. */
export function describeBug(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const where = e.stack
    ?.split('\n')
    .find((l) => l.trim().startsWith('at '))
    ?.trim()
    .replace(/^at /, '');
  return `internal error (a bug, please report it): ${e.name}: ${e.message}${where ? ` (at ${where})` : ''}`;
}

/** "ENOENT: no such file or directory, open '/x'" -> "no such file or directory" */
export function reason(err: unknown): string {
  if (err instanceof UserError) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && typeof e.message === 'string') {
    const m = /^[A-Z0-9_]+: ([^,]+)/.exec(e.message);
    if (m) return m[1]!; // the group is not optional
  }
  return e && typeof e.message === 'string' ? e.message : String(err);
}

export function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}
