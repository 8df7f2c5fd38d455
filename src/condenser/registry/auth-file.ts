import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../../lib/errors.js';
import type { Credentials } from './client.js';

/** The credentials file, in the format of containers-auth.json(5) and docker's config.json:
 * `{"auths": {"host:port": {"auth": base64("user:password")}}}`. Other keys are kept. */
interface AuthFile {
  auths?: Record<string, { auth?: string; [k: string]: unknown }>;
  [k: string]: unknown;
}

/** podman's default: the file lives on tmpfs, per user, gone at reboot. */
export function defaultAuthFile(env: NodeJS.ProcessEnv = process.env): string {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0 && env.XDG_RUNTIME_DIR) return `${env.XDG_RUNTIME_DIR}/containers/auth.json`;
  return `/run/containers/${uid}/auth.json`;
}

/** --authfile, else $REGISTRY_AUTH_FILE, else the default. */
export function authFilePath(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  return option || env.REGISTRY_AUTH_FILE || defaultAuthFile(env);
}

function read(path: string): AuthFile {
  if (!existsSync(path)) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`credentials file ${path}: ${(err as Error).message}`, { kind: 'invalid', cause: err });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new UserError(`credentials file ${path}: not a JSON object`, { kind: 'invalid' });
  const file = doc as AuthFile;
  if (file.auths !== undefined && (typeof file.auths !== 'object' || file.auths === null || Array.isArray(file.auths)))
    throw new UserError(`credentials file ${path}: "auths" is not an object`, { kind: 'invalid' });
  return file;
}

/** Written beside and renamed over, mode 0600: never half a file, never readable by others. */
function write(path: string, file: AuthFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(file, null, '\t')}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new UserError(`credentials file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The entry for a registry: its key as podman writes it, or as docker does (`https://host/v1/`). */
function entryKey(file: AuthFile, domain: string): string | undefined {
  const auths = file.auths ?? {};
  if (Object.hasOwn(auths, domain)) return domain;
  return Object.keys(auths).find((k) => k.replace(/^https?:\/\//, '').replace(/\/.*$/, '') === domain);
}

export function storedCredentials(path: string, domain: string): Credentials | undefined {
  const file = read(path);
  const key = entryKey(file, domain === 'docker.io' && !entryKey(file, domain) ? 'index.docker.io' : domain);
  const auth = key === undefined ? undefined : file.auths?.[key]?.auth;
  if (typeof auth !== 'string' || auth === '') return undefined;
  const text = Buffer.from(auth, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0)
    throw new UserError(`credentials file ${path}: the entry for ${domain} is not base64 of user:password`, { kind: 'invalid' });
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

export function saveCredentials(path: string, domain: string, c: Credentials): void {
  const file = read(path);
  const auths = { ...(file.auths ?? {}) };
  auths[domain] = { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') };
  write(path, { ...file, auths });
}

/** Removes the registry's entry; false if there was none. */
export function removeCredentials(path: string, domain: string): boolean {
  const file = read(path);
  const key = entryKey(file, domain);
  if (key === undefined) return false;
  const auths = { ...(file.auths ?? {}) };
  delete auths[key];
  write(path, { ...file, auths });
  return true;
}
