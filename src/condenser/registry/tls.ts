import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../lib/errors.js';

/** Where per-registry certificates live, docker's and podman's convention:
 * `<dir>/<host:port>/*.crt` are the CAs trusted for that registry. */
export const DEFAULT_CERTS_DIRS = ['/etc/containers/certs.d', '/etc/docker/certs.d'];

export interface TlsSettings {
  /** PEM CAs for this registry, instead of the system's; none: the system's */
  ca: string[];
  /** false: accept any certificate (--tls-verify=false) */
  verify: boolean;
}

/** The CAs of the first certs directory that has a folder for the registry. */
export function registryCas(domain: string, dirs: readonly string[]): string[] {
  for (const dir of dirs) {
    const d = join(dir, domain);
    if (!existsSync(d)) continue;
    try {
      return readdirSync(d)
        .filter((f) => f.endsWith('.crt'))
        .sort()
        .map((f) => readFileSync(join(d, f), 'utf8'));
    } catch (err) {
      throw new UserError(`certificates for ${domain}: cannot read ${d}: ${(err as Error).message}`, { cause: err });
    }
  }
  return [];
}

const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

/** Whether a fetch failure is the server's certificate being refused (as opposed to no TLS). */
export function isCertificateError(code: string | undefined): boolean {
  return code !== undefined && (CERT_CODES.has(code) || /CERT/.test(code));
}

/** The fetch options that carry the TLS settings. Bun takes them in `tls`; Node's global
 * fetch would need an undici Agent, which we do not ship, so there it is refused. */
export function tlsFetchOptions(tls: TlsSettings, what: string): Record<string, unknown> {
  if (tls.ca.length === 0 && tls.verify) return {};
  if (typeof (globalThis as { Bun?: unknown }).Bun === 'undefined')
    throw new UserError(
      `${what}: a registry CA or --tls-verify=false needs the compiled raind executable (Bun); Node's fetch cannot take them`,
      {
        kind: 'invalid',
      },
    );
  return { tls: { ...(tls.ca.length ? { ca: tls.ca } : {}), rejectUnauthorized: tls.verify } };
}
