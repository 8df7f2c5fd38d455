import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { UsageError } from '../lib/errors.js';
import type { Engine } from '../condenser/engine.js';
import { parseOptions, splitAtPositional } from './container-flags.js';

/** One argument of cp: CONTAINER:PATH, or a host path ("-" is a tar on stdin or stdout).
 * As docker: a path that starts with "/" or "." is the host's, whatever colons it has. */
function cpArgument(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const colon = arg.indexOf(':');
  if (colon <= 0) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) || '/' };
}

const CP_OPTIONS = {
  archive: { type: 'boolean', short: 'a' },
  'follow-link': { type: 'boolean', short: 'L' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

/** cp [-a] [-L] CONTAINER:SRC DEST|-  and  cp [-a] [-L] SRC|- CONTAINER:DEST */
export async function containerCopy(engine: Engine, argv: string[]): Promise<number> {
  const split = splitAtPositional(argv, CP_OPTIONS);
  const values = parseOptions('cp', split.options, CP_OPTIONS);
  if (split.rest.length !== 2) throw new UsageError('cp: expected SRC and DEST, one of them CONTAINER:PATH');
  const [src, dest] = split.rest.map(cpArgument) as [ReturnType<typeof cpArgument>, ReturnType<typeof cpArgument>];
  const request = { archive: values.archive === true, follow: values['follow-link'] === true };
  if (src.container !== undefined && dest.container !== undefined) throw new UsageError('cp: copying between containers is not supported');
  if (src.container !== undefined) {
    if (dest.path === '-') {
      if (process.stdout.isTTY) throw new UsageError('cp: refusing to write a tar to a terminal');
      await engine.containers.copyFrom(src.container, src.path, { stream: process.stdout }, request);
    } else await engine.containers.copyFrom(src.container, src.path, { path: dest.path }, request);
    return 0;
  }
  if (dest.container === undefined) throw new UsageError('cp: one of SRC and DEST must be CONTAINER:PATH');
  if (src.path === '-') {
    if (process.stdin.isTTY) throw new UsageError('cp: stdin is a terminal: pipe a tar in');
    await engine.containers.copyTo(dest.container, dest.path, { stream: process.stdin }, request);
  } else await engine.containers.copyTo(dest.container, dest.path, { path: src.path }, request);
  return 0;
}

/** export [-o FILE] CONTAINER: the root filesystem as a tar; a file is written beside its
 * name and renamed when whole. */
export async function containerExport(engine: Engine, argv: string[]): Promise<number> {
  const options = { output: { type: 'string', short: 'o' } } as const;
  const split = splitAtPositional(argv, options);
  const values = parseOptions('export', split.options, options);
  if (split.rest.length !== 1) throw new UsageError('export: expected one container');
  const container = split.rest[0] ?? '';
  const file = values.output as string | undefined;
  if (file === undefined) {
    if (process.stdout.isTTY) throw new UsageError('export: refusing to write a tar to a terminal: use -o FILE');
    await engine.containers.exportTo(container, process.stdout);
    return 0;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const through = new PassThrough();
    const writing = pipeline(through, createWriteStream(tmp));
    await engine.containers.exportTo(container, through);
    through.end();
    await writing;
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return 0;
}
