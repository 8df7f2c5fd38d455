import type { Credentials } from '../engine.js';
import { ApiError } from './http-io.js';
import type { ApiRequest } from './request.js';

/** The credentials of docker's `X-Registry-Auth` header: base64url of a JSON
 * `{username, password, serveraddress}`. No header, or no user name in it (the CLI sends
 * `{}` when it has none), is none: the engine's stored credentials then apply. */
export function registryAuth(r: ApiRequest): Credentials | undefined {
  const header = r.req.headers['x-registry-auth'];
  const text = Array.isArray(header) ? header[0] : header;
  if (!text) return undefined;
  let parsed: unknown;
  try {
    /* Node's base64 decoder takes the url-safe alphabet too, padded or not */
    parsed = JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
  } catch {
    throw new ApiError(400, 'invalid X-Registry-Auth header: not base64 JSON');
  }
  if (parsed === null || typeof parsed !== 'object') throw new ApiError(400, 'invalid X-Registry-Auth header: not a JSON object');
  const { username, password } = parsed as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || username === '') return undefined;
  return { username, password: typeof password === 'string' ? password : '' };
}
