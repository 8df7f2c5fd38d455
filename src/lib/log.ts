import { appendFileSync, writeSync } from 'node:fs';

export type LogFormat = 'text' | 'json';
export type Level = 'debug' | 'info' | 'warning' | 'error';

/** Where droplet's own messages go: stderr for the user, and --log in text or JSON lines
 * (containerd's shim reads the last JSON line's msg when a command fails). */
export class Logger {
  constructor(
    private readonly file: string | undefined,
    private readonly format: LogFormat,
    private readonly debugEnabled: boolean,
  ) {}

  debug(msg: string): void {
    if (this.debugEnabled) this.write('debug', msg);
  }

  /** A debug line with the time since the process started: where does a command spend it? */
  phase(msg: string): void {
    if (this.debugEnabled) this.write('debug', `${msg} (+${performance.now().toFixed(1)} ms)`);
  }

  warn(msg: string): void {
    this.write('warning', msg);
    if (!this.file) writeSync(2, `droplet: warning: ${msg}\n`);
  }

  /** The last word of a failed command: always on stderr, and in the log file if there is one. */
  error(msg: string): void {
    this.write('error', msg);
    writeSync(2, `droplet: ${msg}\n`);
  }

  private write(level: Level, msg: string): void {
    const time = new Date().toISOString();
    let line: string;
    if (this.format === 'json') line = `${JSON.stringify({ level, msg, time })}\n`;
    else line = `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
    if (this.file) {
      try {
        appendFileSync(this.file, line);
      } catch {
        /* a log that cannot be written must not hide the real error */
      }
    } else if (level === 'debug') {
      writeSync(2, line);
    }
  }
}
