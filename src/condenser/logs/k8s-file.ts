import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** One entry of conmon's k8s-file log: `<RFC3339Nano time> <stdout|stderr> <F|P> <text>`;
 * P marks a part of a line that continues in the next entry. */
export interface LogEntry {
  time: string;
  stream: 'stdout' | 'stderr';
  /** the text with its newline when the line is complete */
  text: string;
}

export function parseLogLine(line: string): LogEntry | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP])(?: (.*))?$/.exec(line);
  if (!m) return undefined;
  return { time: m[1] ?? '', stream: m[2] as 'stdout' | 'stderr', text: (m[4] ?? '') + (m[3] === 'F' ? '\n' : '') };
}

/** Reads a log file as it grows: each read returns the complete entries written since the
 * last (a last line without its newline waits for the next read). It keeps the file open,
 * so it reads to the end even after the container, and its directory, are removed. */
export class LogReader {
  private offset = 0;
  private pending = '';

  private constructor(private readonly fd: number) {}

  static open(path: string): LogReader | undefined {
    try {
      return new LogReader(openSync(path, 'r'));
    } catch {
      return undefined;
    }
  }

  read(): LogEntry[] {
    const size = fstatSync(this.fd).size;
    if (size < this.offset) this.offset = 0;
    if (size === this.offset) return [];
    const buf = Buffer.alloc(size - this.offset);
    const n = readSync(this.fd, buf, 0, buf.length, this.offset);
    this.offset += n;
    const text = this.pending + buf.subarray(0, n).toString('utf8');
    const end = text.lastIndexOf('\n');
    this.pending = text.slice(end + 1);
    if (end < 0) return [];
    return text
      .slice(0, end)
      .split('\n')
      .map(parseLogLine)
      .filter((e): e is LogEntry => e !== undefined);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The last n lines: partial entries belong to the line they end in. */
export function lastLines(entries: LogEntry[], n: number): LogEntry[] {
  let lines = 0;
  for (let i = entries.length - 1; i >= 0; i--) {
    if (entries[i]?.text.endsWith('\n')) {
      if (lines === n) return entries.slice(i + 1);
      lines++;
    }
  }
  return entries;
}

/** A time of the log (nanoseconds, with conmon's zone offset) in milliseconds. */
export function entryMillis(time: string): number {
  return Date.parse(time.replace(/(\.\d{3})\d*/, '$1'));
}
