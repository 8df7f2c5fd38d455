import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO, type Result, testEnv } from './droplet.js';

/** The raind under test: the link to this checkout's compiled executable. */
export const RAIND = process.env.RAIND_TEST_BIN ?? join(REPO, 'dist', 'bin', 'raind');

export function raind(root: string, args: string[]): Result {
  const r = spawnSync(RAIND, ['--root', root, ...args], { encoding: 'utf8', env: testEnv(), timeout: 120_000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export function raindOk(root: string, args: string[]): Result {
  const r = raind(root, args);
  if (r.code !== 0) throw new Error(`raind ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}
