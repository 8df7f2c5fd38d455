/** The Docker Engine API versions served: clients that ask /_ping or /version drop to
 * API_VERSION; a path prefix older than MIN_API_VERSION or newer than API_VERSION is refused,
 * as dockerd refuses it. */
export const API_VERSION = '1.43';
export const MIN_API_VERSION = '1.24';

/** "1.41" → 141, for comparing. */
export function versionNumber(text: string): number {
  const m = /^1\.(\d+)$/.exec(text);
  return m ? 100 + Number(m[1]) : Number.NaN;
}

/** The path without its `/v1.NN` prefix, and the version asked (API_VERSION without one). */
export function splitVersion(path: string): { path: string; version: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
  if (!m) return { path, version: API_VERSION };
  return { path: m[2] ?? '/', version: m[1] ?? API_VERSION };
}
