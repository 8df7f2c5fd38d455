/** A failure meant for the user: one line that says what was being done, on what, and why. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** A command line that does not parse: its message already names the command, and no
 * container was touched. */
export class UsageError extends UserError {}

/** "ENOENT: no such file or directory, open '/x'" -> "no such file or directory" */
export function reason(err: unknown): string {
  if (err instanceof UserError) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && typeof e.message === 'string') {
    const m = /^[A-Z0-9_]+: ([^,]+)/.exec(e.message);
    if (m) return m[1];
  }
  return e && typeof e.message === 'string' ? e.message : String(err);
}

export function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}
