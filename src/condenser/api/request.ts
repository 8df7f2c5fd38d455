import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Engine } from '../engine.js';
import { ApiError } from './http-io.js';

/** Who sent a request: the audit log's "who". */
export interface Peer {
  transport: 'unix' | 'tcp';
  /** the client certificate's subject (TCP with mutual TLS) */
  subject?: string;
  /** the client's address (TCP) */
  address?: string;
  /** the connecting process's ids as the kernel recorded them (unix socket: SO_PEERCRED) */
  uid?: number;
  gid?: number;
  pid?: number;
}

/** One request as a route handler sees it. */
export interface ApiRequest {
  engine: Engine;
  req: IncomingMessage;
  res: ServerResponse;
  /** the `{name}` parts of the route's path */
  params: Record<string, string>;
  query: URLSearchParams;
  /** the API version the client asked for (its path prefix), or the server's */
  version: string;
  peer: Peer;
  /** set when the client asked to take over the connection (`Upgrade: tcp`): attach and
   * exec start answer 101 and speak the raw stream on it */
  upgrade?: { socket: Duplex; head: Buffer };
  /** what the audit log names as the request's target, when the path does not say it */
  target?: string;
  /** the answer's status, for the audit log, when the handler wrote it past `res` */
  status?: number;
}

/** A query parameter as docker reads a bool: 1, true, True (and absent = false). */
export function queryBool(r: ApiRequest, name: string, fallback = false): boolean {
  const v = r.query.get(name);
  if (v === null || v === '') return fallback;
  return v === '1' || v.toLowerCase() === 'true';
}

/** A query parameter that must be an integer when given. */
export function queryInt(r: ApiRequest, name: string): number | undefined {
  const v = r.query.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new ApiError(400, `query parameter ${name} must be an integer, not "${v}"`);
  return Number(v);
}

/** docker's `filters` parameter: `{"key":["v1","v2"]}`, or the older `{"key":{"v1":true}}`. */
export function queryFilters(r: ApiRequest): Record<string, string[]> {
  const text = r.query.get('filters');
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ApiError(400, `query parameter filters is not JSON: ${text}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ApiError(400, 'query parameter filters must be a JSON object');
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(value)) out[key] = value.map(String);
    else if (value && typeof value === 'object') out[key] = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k]);
    else throw new ApiError(400, `filter ${key} must be a list of values`);
  }
  return out;
}
