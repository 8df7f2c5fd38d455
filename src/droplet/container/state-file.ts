import { posix } from 'node:path';
import type { CgroupDir } from '../../linux/cgroups/container-cgroup.js';
import type { Hooks } from '../../oci/spec.js';

/** What droplet keeps about a container in <root>/<id>/state.json. The runtime-spec status
 * is not stored but derived (status.ts): it must follow the init even when no droplet runs. */
export interface StoredState {
  ociVersion: string;
  id: string;
  /** "creating" until create has finished, then "created"; later states are derived */
  phase: 'creating' | 'created';
  pid: number;
  /** the init's start time (field 22 of /proc/<pid>/stat), against PID reuse */
  initStartTime: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations: Record<string, string>;
  cgroups: CgroupDir[];
  /** the hooks droplet runs after create: the bundle may change, the container's hooks do not */
  hooks: Pick<Hooks, 'poststart' | 'poststop'>;
}

/** Checks a state.json read from disk, field by field. Commands act on what it says (a pid
 * to signal, cgroups to empty and remove), so a file that is not exactly what droplet writes
 * is refused, with the first thing wrong, instead of half trusted. */
export function parseStoredState(text: string, id: string): StoredState {
  if (text.trim() === '') throw new Error('it is empty');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`invalid JSON (${(err as Error).message.replace(/\s+/g, ' ')})`);
  }
  const s = object(raw, 'the document');
  for (const key of ['ociVersion', 'initStartTime', 'bundle', 'rootfs', 'created', 'owner'] as const) string(s[key], key);
  if (s.id !== id) throw new Error(`"id" is ${describe(s.id)}, not the directory's "${id}"`);
  if (s.phase !== 'creating' && s.phase !== 'created') throw new Error(`"phase" is ${describe(s.phase)}, not "creating" or "created"`);
  if (!Number.isSafeInteger(s.pid) || (s.pid as number) < 0) throw new Error(`"pid" is ${describe(s.pid)}, not a pid`);
  if (s.phase === 'created' && s.pid === 0) throw new Error('"pid" is 0 in a created container');
  for (const [k, v] of Object.entries(object(s.annotations, 'annotations'))) string(v, `annotations.${k}`);
  list(s.cgroups, 'cgroups').forEach((c, i) => cgroupDir(c, `cgroups[${i}]`));
  const hooks = object(s.hooks, 'hooks');
  for (const kind of ['poststart', 'poststop'] as const)
    list(hooks[kind], `hooks.${kind}`).forEach((h, i) => hook(h, `hooks.${kind}[${i}]`));
  return raw as StoredState;
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${quoted(what)} is ${describe(v)}, not an object`);
  return v as Record<string, unknown>;
}

function list(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${quoted(what)} is ${describe(v)}, not a list`);
  return v;
}

function string(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`${quoted(what)} is ${describe(v)}, not a string`);
  return v;
}

/** A cgroup of the container: a directory inside its hierarchy, below the hierarchy's root. */
function cgroupDir(v: unknown, at: string): void {
  const c = object(v, at);
  const h = object(c.hierarchy, `${at}.hierarchy`);
  if (h.version !== 1 && h.version !== 2) throw new Error(`"${at}.hierarchy.version" is ${describe(h.version)}`);
  const mountpoint = string(h.mountpoint, `${at}.hierarchy.mountpoint`);
  string(h.key, `${at}.hierarchy.key`);
  const path = string(c.path, `${at}.path`);
  if (!path.startsWith('/') || posix.normalize(path) !== path || path === '/')
    throw new Error(`"${at}.path" is ${JSON.stringify(path)}, not a cgroup below its hierarchy's root`);
  if (c.dir !== posix.join(mountpoint, path))
    throw new Error(`"${at}.dir" is ${JSON.stringify(c.dir)}, not ${posix.join(mountpoint, path)}`);
  if (typeof c.owned !== 'boolean') throw new Error(`"${at}.owned" is ${describe(c.owned)}, not true or false`);
}

function hook(v: unknown, at: string): void {
  const h = object(v, at);
  if (!string(h.path, `${at}.path`).startsWith('/')) throw new Error(`"${at}.path" is not an absolute path`);
  for (const key of ['args', 'env'] as const) list(h[key], `${at}.${key}`).forEach((a, i) => string(a, `${at}.${key}[${i}]`));
  if (h.timeout !== undefined && !(Number.isInteger(h.timeout) && (h.timeout as number) > 0))
    throw new Error(`"${at}.timeout" is ${describe(h.timeout)}`);
}

function quoted(what: string): string {
  return what === 'the document' ? what : `"${what}"`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'missing';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
