import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { UserError } from '../../lib/errors.js';
import { findInPath } from '../../lib/executables.js';
import type { OciRuntime } from '../runtime/oci-runtime.js';

export interface MonitorOptions {
  id: string;
  name: string;
  /** the bundle: the container's directory, with config.json */
  bundle: string;
  /** where conmon keeps its pid file, the container's pid file and the exit file */
  runDir: string;
  /** where attach sockets live: `<dir>/<id>/attach` */
  socketDir: string;
  logPath: string;
  runtime: OciRuntime;
  tty: boolean;
  stdin: boolean;
  /** keep the container's stdin open when an attached client leaves */
  leaveStdinOpen: boolean;
  /** run by conmon once the container has exited */
  exitCommand: string[];
}

/** The files conmon writes in the run directory. */
export const monitorFiles = (runDir: string) => ({
  conmonPid: join(runDir, 'conmon.pid'),
  containerPid: join(runDir, 'pidfile'),
  /** the exit code, written once the container has exited */
  exit: join(runDir, 'exit'),
  /** made when the kernel's OOM killer hit the container's cgroup */
  oom: join(runDir, 'oom'),
  log: join(runDir, 'conmon.log'),
});

/** Starts conmon, the container's monitor (podman's and CRI-O's): it runs the runtime's
 * `create`, stays as the init's parent (a subreaper), writes the logs, serves the attach
 * socket and the console, records the exit code and runs the exit command. It
 * double-forks, so it outlives this process. Resolves to the container's pid once the
 * runtime's create has returned: the init then waits on exec.fifo. */
export async function startMonitor(opts: MonitorOptions): Promise<number> {
  const conmon = findInPath('conmon');
  if (!conmon) throw new UserError('conmon is not installed (the container monitor; Debian package conmon)');
  const files = monitorFiles(opts.runDir);
  const args = [
    '--api-version',
    '1',
    '-c',
    opts.id,
    '-u',
    opts.id,
    '-n',
    opts.name,
    '-r',
    opts.runtime.path,
    '-b',
    opts.bundle,
    '-p',
    files.containerPid,
    '-P',
    files.conmonPid,
    '--persist-dir',
    opts.runDir,
    '--socket-dir-path',
    opts.socketDir,
    '-l',
    `k8s-file:${opts.logPath}`,
    '--log-level',
    'error',
    ...opts.runtime.globalArgs.flatMap((a) => ['--runtime-arg', a]),
    ...(opts.tty ? ['-t'] : []),
    ...(opts.stdin ? ['-i'] : []),
    ...(opts.leaveStdinOpen ? ['--leave-stdin-open'] : []),
    '--exit-command',
    opts.exitCommand[0] ?? '',
    ...opts.exitCommand.slice(1).flatMap((a) => ['--exit-command-arg', a]),
  ];
  /* conmon's own complaints before it daemonizes; afterwards it writes nothing there */
  const errFd = openSync(files.log, 'w', 0o600);
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(conmon, args, {
      /* conmon writes files into its working directory (an `oom` file, as podman runs it
       * from the bundle): the container's own directory, never the caller's */
      cwd: opts.bundle,
      stdio: ['ignore', 'ignore', errFd, 'pipe'],
      env: { ...process.env, _OCI_SYNCPIPE: '3' },
      detached: true,
    });
  } finally {
    closeSync(errFd);
  }
  const sync = child.stdio[3] as Readable;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', (e) => reject(new UserError(`start conmon: ${e.message}`))));
  const message = await Promise.race([firstLine(sync), spawnError]);
  sync.destroy();
  child.unref();
  await Promise.race([exited, new Promise((r) => setTimeout(r, 1000).unref())]);
  if (message === undefined) {
    const why = readText(files.log).trim().split('\n').pop() || 'it exited without a word';
    throw new UserError(`create ${opts.id}: conmon: ${why.replace(/^\[conmon:.\]: /, '')}`);
  }
  let parsed: { data?: number; message?: string };
  try {
    parsed = JSON.parse(message) as { data?: number; message?: string };
  } catch {
    throw new UserError(`create ${opts.id}: conmon said "${message}"`);
  }
  if (typeof parsed.data !== 'number' || parsed.data <= 0) {
    const why = (parsed.message ?? '').trim().split('\n').pop() ?? '';
    const said = cleanRuntimeError(why) || 'the runtime failed';
    throw new UserError(said.startsWith(`create ${opts.id}:`) ? said : `create ${opts.id}: ${said}`);
  }
  return parsed.data;
}

/** The runtime's message without its name, runc's logrus decoration or droplet's prefix. */
function cleanRuntimeError(line: string): string {
  return line
    .replace(/^time="[^"]*" level=\w+ msg="(.*)"$/, '$1')
    .replace(/^\{"level":"error","msg":"(.*)"\}$/, '$1')
    .replace(/^(droplet|runc|crun): /, '');
}

function firstLine(stream: Readable): Promise<string | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const done = (value: string | undefined) => {
      stream.removeAllListeners('data');
      resolve(value);
    };
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl >= 0) done(text.slice(0, nl));
    });
    stream.once('end', () => done(text.trim() || undefined));
    stream.once('error', () => done(text.trim() || undefined));
  });
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The exit code conmon recorded, or undefined while it has none. */
export function recordedExit(runDir: string): { code: number; oom: boolean } | undefined {
  const files = monitorFiles(runDir);
  const text = readText(files.exit).trim();
  if (!/^-?\d+$/.test(text)) return undefined;
  let oom = false;
  try {
    readFileSync(files.oom);
    oom = true;
  } catch {}
  return { code: Number(text), oom };
}
