import { existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

/** Set by the build of the executables; absent when Node runs the modules (tests). */
declare const RAIND_EXECUTABLE: boolean | undefined;

/** The path of one of this project's programs (`droplet`, `raind`): beside the running
 * executable's real file, where the build and the install put their links; from a checkout
 * (modules run by Node), its dist/bin. */
export function ownExecutable(name: string): string {
  if (typeof RAIND_EXECUTABLE !== 'undefined') return join(dirname(realpathSync(process.execPath)), name);
  for (let d = __dirname; d !== dirname(d); d = dirname(d)) {
    const candidate = join(d, 'dist', 'bin', name);
    if (existsSync(join(d, 'package.json')) && existsSync(candidate)) return candidate;
  }
  throw new Error(`no dist/bin/${name} above ${__dirname} (npm run build)`);
}

/** A program found in PATH (and the sbin directories, which a root shell may lack), as the
 * shell would find it; undefined when there is none. */
export function findInPath(name: string): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
  ];
  for (const d of dirs) {
    if (!d) continue;
    const candidate = join(d, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}
