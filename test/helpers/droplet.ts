import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root: the first directory above this (bundled) file with a package.json. */
function findRepo(from: string): string {
  for (let d = from; d !== '/'; d = resolve(d, '..')) if (existsSync(join(d, 'package.json'))) return d;
  throw new Error(`no package.json above ${from}`);
}
export const REPO = findRepo(__dirname);
/** The droplet under test: this checkout's compiled executable, or another one named by
 * DROPLET_TEST_BIN (an installed copy). */
export const DROPLET = process.env.DROPLET_TEST_BIN ?? join(REPO, 'dist', 'bin', 'droplet');

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment tests run droplet with: NODE_EXTRA_CA_CERTS only slows every start. */
export function testEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** Runs droplet to completion. stdin is /dev/null and the container's stdout goes to a file,
 * so a detached container holding droplet's stdio cannot keep the call waiting. */
export function droplet(root: string, args: string[], opts: SpawnSyncOptions & { extraFds?: number[] } = {}): Result {
  const dir = mkdtempSync(join(tmpdir(), 'droplet-out-'));
  const out = join(dir, 'out');
  const err = join(dir, 'err');
  const o = openSync(out, 'w');
  const e = openSync(err, 'w');
  try {
    const { extraFds = [], ...rest } = opts;
    const r = spawnSync(DROPLET, ['--root', root, ...args], {
      stdio: ['ignore', o, e, ...extraFds],
      env: testEnv(),
      timeout: 60_000,
      ...rest,
    });
    return { code: r.status, signal: r.signal, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  } finally {
    closeSync(o);
    closeSync(e);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Same as droplet() but fails the test on a non-zero exit, showing stderr. */
export function ok(root: string, args: string[], opts: SpawnSyncOptions & { extraFds?: number[] } = {}): Result {
  const r = droplet(root, args, opts);
  if (r.code !== 0) throw new Error(`droplet ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

export function stateOf(root: string, id: string): { status: string; pid: number; [k: string]: unknown } {
  return JSON.parse(ok(root, ['state', id]).stdout);
}

let counter = 0;
/** Ids unique across test files and runs, so parallel or leftover state never collides. */
export function uniqueId(prefix = 't'): string {
  return `${prefix}-${process.pid}-${++counter}`;
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

export async function waitFor(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A droplet command running in the background (e.g. to kill it at a chosen instant);
 * `detached` puts it in a process group of its own. Output goes to files, as in droplet():
 * a container keeps droplet's stdio open. */
export function dropletInBackground(
  root: string,
  args: string[],
  opts: { detached?: boolean } = {},
): { child: ChildProcess; done: Promise<Result> } {
  const dir = mkdtempSync(join(tmpdir(), 'droplet-out-'));
  const o = openSync(join(dir, 'out'), 'w');
  const e = openSync(join(dir, 'err'), 'w');
  const child = spawn(DROPLET, ['--root', root, ...args], { stdio: ['ignore', o, e], env: testEnv(), detached: opts.detached });
  closeSync(o);
  closeSync(e);
  const done = new Promise<Result>((resolve) =>
    child.on('exit', (code, signal) => {
      const r = { code, signal, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') };
      rmSync(dir, { recursive: true, force: true });
      resolve(r);
    }),
  );
  return { child, done };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
