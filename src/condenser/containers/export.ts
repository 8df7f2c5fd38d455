import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { UserError } from '../../lib/errors.js';

/** docker export: a tar of the container's root as the container sees it (the overlay's
 * merged view), by GNU tar, which keeps device nodes, hard links, sparse files, numeric
 * owners and extended attributes. The top-level names are given on stdin, NUL-separated and
 * verbatim, so that entries read "bin/sh" as docker's do, not "./bin/sh", and no name can
 * pass for an option. GNU tar never follows a symlink it archives. */
export async function exportRoot(merged: string, out: Writable): Promise<void> {
  const names = readdirSync(merged).sort();
  const tar = spawn(
    'tar',
    [
      '--create',
      '--file=-',
      '--numeric-owner',
      '--xattrs',
      '--xattrs-include=*',
      '--sparse',
      '--null',
      '--verbatim-files-from',
      '--files-from=-',
    ],
    { cwd: merged, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  tar.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  tar.stdin.end(names.map((n) => `${n}\0`).join(''));
  const exited = new Promise<number>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', (code, signal) => resolve(code ?? 128 + (signal ? 1 : 0)));
  });
  await new Promise<void>((resolve, reject) => {
    tar.stdout.on('error', reject);
    out.on('error', reject);
    tar.stdout.pipe(out, { end: false });
    tar.stdout.on('end', resolve);
  });
  const code = await exited;
  /* 1: a file changed while it was read, which a running container may do */
  if (code > 1) throw new UserError(`export: tar exited ${code}: ${stderr.trim().split('\n').pop() ?? ''}`);
}
