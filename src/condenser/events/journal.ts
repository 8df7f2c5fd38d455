import { type Stats, closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { dirname, join } from 'node:path';
import { errnoCode } from '../../lib/errors.js';

/** One event, in docker's shape (`GET /events`); containers' carry the older status, id
 * and from fields too, as docker's do. */
export interface EngineEvent {
  Type: 'container' | 'image' | 'network' | 'volume';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  status?: string;
  id?: string;
  from?: string;
}

/** Past this size the journal is moved to `events.log.1` (the one before is dropped) and
 * a new one is begun: two files bound what is kept. */
const ROTATE_BYTES = 1 << 20;

/** The engine's events, `<runRoot>/events.log`: JSON lines appended (O_APPEND, one write
 * each, so lines of several processes never mix) by whichever process acts: the API
 * server, the raind CLI, conmon's cleanup. `raind serve` tails it for `GET /events`. */
export class EventJournal {
  readonly path: string;

  constructor(runRoot: string) {
    this.path = join(runRoot, 'events.log');
  }

  /** Appends one event; never fails its caller: an event lost is better than an action
   * refused for it. */
  record(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): void {
    const nano = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    const event: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(nano / 1_000_000_000n),
      timeNano: Number(nano),
      ...(type === 'container' ? { status: action, id, ...(attributes.image ? { from: attributes.image } : {}) } : {}),
    };
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o711 });
      const fd = openSync(this.path, 'a', 0o600);
      let written: Stats;
      try {
        writeSync(fd, `${JSON.stringify(event)}\n`);
        written = fstatSync(fd);
      } finally {
        closeSync(fd);
      }
      /* only the file this line went to is rotated: another process may have done it first */
      if (written.size > ROTATE_BYTES && statSync(this.path).ino === written.ino) renameSync(this.path, `${this.path}.1`);
    } catch {
      /* a full disk or a read-only run root: the action goes on */
    }
  }

  /** Follows the journal from its start (the rotated file first), or with `fromEnd` from
   * what comes next: each event to `onEvent` as it is read, then those appended later,
   * polled every `pollMs`, until `stop()`. */
  follow(onEvent: (e: EngineEvent) => void, opts: { pollMs?: number; fromEnd?: boolean } = {}): { stop(): void } {
    const pollMs = opts.pollMs ?? 200;
    const reader = new LineReader(onEvent, opts.fromEnd === true);
    if (!opts.fromEnd) reader.drainFile(`${this.path}.1`);
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = () => {
      if (stopped) return;
      reader.poll(this.path);
      timer = setTimeout(tick, pollMs);
    };
    reader.poll(this.path);
    timer = setTimeout(tick, pollMs);
    return {
      stop() {
        stopped = true;
        clearTimeout(timer);
        reader.close();
      },
    };
  }
}

/** Reads a journal file by an fd kept open: a rotation renames the file, the fd still reads
 * the rest of it, then the new file is opened. */
class LineReader {
  private fd: number | undefined;
  private ino = 0;
  private offset = 0;
  private partial = '';
  /* a character split between two reads is kept for the next */
  private decoder = new StringDecoder('utf8');

  constructor(
    private readonly onEvent: (e: EngineEvent) => void,
    /** the file as it is when first opened is skipped: only what is appended is read */
    private skipExisting: boolean,
  ) {}

  /** A whole file, once (the rotated one). */
  drainFile(path: string): void {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return;
    }
    let offset = 0;
    let partial = '';
    const decoder = new StringDecoder('utf8');
    try {
      for (;;) {
        const read = readMore(fd, offset);
        if (read.length === 0) break;
        offset += read.length;
        partial = this.emit(partial + decoder.write(read));
      }
    } finally {
      closeSync(fd);
    }
  }

  poll(path: string): void {
    if (this.fd !== undefined) this.readAll();
    let ino: number;
    try {
      ino = statSync(path).ino;
    } catch (err) {
      /* none yet: all of the file to come is new */
      if (errnoCode(err) === 'ENOENT') {
        this.skipExisting = false;
        return;
      }
      throw err;
    }
    if (this.fd !== undefined && ino === this.ino) return;
    /* the file was rotated (or is new): what the old fd had is read; on to the new one */
    this.close();
    try {
      this.fd = openSync(path, 'r');
    } catch {
      return;
    }
    const st = fstatSync(this.fd);
    this.ino = st.ino;
    this.offset = this.skipExisting ? st.size : 0;
    this.skipExisting = false;
    this.partial = '';
    this.decoder = new StringDecoder('utf8');
    this.readAll();
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private readAll(): void {
    if (this.fd === undefined) return;
    for (;;) {
      const read = readMore(this.fd, this.offset);
      if (read.length === 0) return;
      this.offset += read.length;
      this.partial = this.emit(this.partial + this.decoder.write(read));
    }
  }

  /** The complete lines as events; the rest, a line still being written, is returned. */
  private emit(text: string): string {
    const lines = text.split('\n');
    const rest = lines.pop() ?? '';
    for (const line of lines) {
      if (!line) continue;
      try {
        this.onEvent(JSON.parse(line) as EngineEvent);
      } catch {
        /* a line torn by a crash is skipped */
      }
    }
    return rest;
  }
}

function readMore(fd: number, offset: number): Buffer {
  const buf = Buffer.alloc(64 * 1024);
  return buf.subarray(0, readSync(fd, buf, 0, buf.length, offset));
}

/** What a container's events say of it: its name, image and labels, as docker's. */
export function containerAttributes(c: {
  Name: string;
  ImageName: string;
  Config: { Labels: Record<string, string> };
}): Record<string, string> {
  return { ...c.Config.Labels, image: c.ImageName, name: c.Name };
}
