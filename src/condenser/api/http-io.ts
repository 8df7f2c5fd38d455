import type { IncomingMessage, ServerResponse } from 'node:http';
import { UserError, reason } from '../../lib/errors.js';

/** The largest request body read into memory (create bodies, network configs): docker's
 * bodies are a few KB; archives and image tars are streamed, never read with this. */
export const MAX_JSON_BODY = 1 << 20;

/** An error with the HTTP status docker returns for it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The request's body, refused with 400 (as docker refuses a bad body) past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<Buffer> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (length > limit) throw new ApiError(400, `request body of ${length} bytes is over the limit of ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ApiError(400, `request body is over the limit of ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The body as a JSON object; an empty body is `{}`. Anything else is a 400 naming the problem. */
export async function readJson<T extends object>(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<T> {
  const body = await readBody(req, limit);
  if (body.length === 0) return {} as T;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new ApiError(400, `malformed JSON in the request body: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ApiError(400, 'the request body must be a JSON object');
  return value as T;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** 204, no body: what docker answers to start, stop, kill and friends. */
export function sendNoContent(res: ServerResponse, status = 204): void {
  res.writeHead(status);
  res.end();
}

/** docker's status for a failure: 400 bad input, 404 not found, 409 conflict, 500 the rest. */
export function statusOf(err: unknown): number {
  if (err instanceof ApiError) return err.status;
  if (err instanceof UserError) {
    switch (err.kind) {
      case 'invalid':
        return 400;
      case 'not-found':
        return 404;
      case 'conflict':
        return 409;
      default:
        return 500;
    }
  }
  return 500;
}

/** The error as docker's body: `{"message": …}`. */
export function sendError(res: ServerResponse, err: unknown): number {
  const status = statusOf(err);
  const message = err instanceof ApiError ? err.message : reason(err);
  if (res.headersSent) {
    res.destroy();
    return status;
  }
  sendJson(res, status, { message });
  return status;
}
