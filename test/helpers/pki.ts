import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Test certificates made with openssl in `dir`: P-256 keys, valid two days. */

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A self-signed CA: `<ca>.pem`, `<ca>-key.pem`. */
export function makeCa(dir: string, ca: string): void {
  mkdirSync(dir, { recursive: true });
  openssl(dir, ['req', '-x509', ...NEW_KEY, '-days', '2', '-subj', `/CN=${ca}`, '-keyout', `${ca}-key.pem`, '-out', `${ca}.pem`]);
}

/** A certificate the CA signed, with the extensions `ext` (openssl's extfile lines):
 * `<name>-cert.pem`, `<name>-key.pem`. */
export function makeCert(dir: string, ca: string, name: string, cn: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['req', ...NEW_KEY, '-subj', `/CN=${cn}`, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`]);
  const sign = ['-CA', `${ca}.pem`, '-CAkey', `${ca}-key.pem`, '-CAcreateserial', '-days', '2'];
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, ...sign, '-extfile', `${name}.ext`, '-out', `${name}-cert.pem`]);
}

/** A server certificate for 127.0.0.1 that no CA signed: `<name>-cert.pem`, `<name>-key.pem`. */
export function makeSelfSigned(dir: string, name: string): void {
  mkdirSync(dir, { recursive: true });
  const san = ['-addext', 'subjectAltName=IP:127.0.0.1'];
  openssl(dir, [
    'req',
    '-x509',
    ...NEW_KEY,
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    ...san,
    '-keyout',
    `${name}-key.pem`,
    '-out',
    `${name}-cert.pem`,
  ]);
}
