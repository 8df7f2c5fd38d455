import type { ServerResponse } from 'node:http';
import { reason } from '../../lib/errors.js';
import { ApiError } from './http-io.js';

/** One message of docker's JSON stream (pull, push, load, import). */
export interface JsonMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  aux?: object;
}

/** docker's JSON message stream: one JSON object a line, application/json. The headers go
 * out with the first message, so a failure before it is still an HTTP error status (400,
 * 404...); after it, a failure is an `errorDetail` line, on which the docker CLI exits 1. */
export class JsonStream {
  constructor(private readonly res: ServerResponse) {}

  /** whether the answer has begun (an error is a line now, not a status) */
  get started(): boolean {
    return this.res.headersSent;
  }

  write(message: JsonMessage): void {
    if (!this.res.headersSent) this.res.writeHead(200, { 'Content-Type': 'application/json' });
    /* a client gone away: the work goes on (a pull is finished as docker finishes it) */
    if (this.res.writableEnded || this.res.destroyed) return;
    this.res.write(`${JSON.stringify(message)}\n`);
  }

  status(status: string, id?: string): void {
    this.write(id === undefined ? { status } : { status, id });
  }

  end(): void {
    if (!this.res.headersSent) this.res.writeHead(200, { 'Content-Type': 'application/json' });
    if (!this.res.writableEnded) this.res.end();
  }

  /** The failure as the stream's last line. */
  fail(err: unknown): void {
    const message = err instanceof ApiError ? err.message : reason(err);
    this.write({ errorDetail: { message }, error: message } as JsonMessage);
    this.end();
  }
}

/** Runs `work` on a JSON stream: a failure before the first message is thrown (the
 * dispatcher answers it with its status), one after is the stream's last line. */
export async function streamed(res: ServerResponse, work: (s: JsonStream) => Promise<void>): Promise<void> {
  const s = new JsonStream(res);
  try {
    await work(s);
  } catch (err) {
    if (!s.started) throw err;
    s.fail(err);
    return;
  }
  s.end();
}

/** A layer's short id in the stream, as docker's: the first 12 hex digits of its digest. */
export function shortId(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1).slice(0, 12);
}
