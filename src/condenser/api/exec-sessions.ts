import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { native } from '../../lib/native.js';
import type { Engine } from '../engine.js';
import { resolveUser } from '../containers/user.js';
import { ApiError } from './http-io.js';

/** What POST /containers/{id}/exec asked for (docker's ExecConfig). */
export interface ExecConfig {
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  Env: string[];
  Cmd: string[];
  WorkingDir: string;
  User: string;
  Privileged: boolean;
  DetachKeys: string;
  ConsoleSize?: [number, number];
}

/** One exec: created, then started once; the server's own (docker's are too), kept until
 * its container goes or a while after it ended. */
export interface ExecSession {
  id: string;
  containerId: string;
  config: ExecConfig;
  started: boolean;
  running: boolean;
  exitCode: number | null;
  pid: number;
  endedAt?: number;
  /** the terminal's size to set once the process has one */
  size?: { rows: number; cols: number };
}

/** The process of a started exec: its output as it comes, and the end. */
export interface ExecProcess {
  child: ChildProcess;
  /** resolves once the process has exited and its output is read */
  done: Promise<void>;
}

/** How long an ended exec can still be inspected. */
const KEEP_ENDED_MS = 5 * 60_000;

/** The execs of each engine served. */
const registries = new WeakMap<Engine, Map<string, ExecSession>>();

function registry(engine: Engine): Map<string, ExecSession> {
  let m = registries.get(engine);
  if (!m) {
    m = new Map();
    registries.set(engine, m);
  }
  return m;
}

/** Drops the execs of containers that are gone and those that ended a while ago. */
function prune(engine: Engine): void {
  const now = Date.now();
  const ids = new Set(engine.containers.list().map((c) => c.Id));
  for (const [id, s] of registry(engine)) {
    if (!ids.has(s.containerId) && !s.running) registry(engine).delete(id);
    else if (s.endedAt !== undefined && now - s.endedAt > KEEP_ENDED_MS) registry(engine).delete(id);
  }
}

export function createSession(engine: Engine, containerId: string, config: ExecConfig): ExecSession {
  prune(engine);
  const session: ExecSession = {
    id: randomBytes(32).toString('hex'),
    containerId,
    config,
    started: false,
    running: false,
    exitCode: null,
    pid: 0,
  };
  registry(engine).set(session.id, session);
  return session;
}

export function findSession(engine: Engine, id: string): ExecSession {
  prune(engine);
  const s = registry(engine).get(id);
  if (!s) throw new ApiError(404, `No such exec instance: ${id}`);
  return s;
}

/** Runs the exec with the container's runtime (`exec`, in the container's namespaces, as
 * `raind exec` does). Without a terminal its stdout and stderr are pipes; with one, the
 * runtime makes the pty and relays it to our pipes, and the size is set on the process's
 * own terminal (its fd 0), found once the runtime has written its pid. */
export function startSession(engine: Engine, session: ExecSession): ExecProcess {
  const containers = engine.containers;
  const record = containers.inspect(session.containerId);
  if (record.State.Status !== 'running') throw new ApiError(409, `Container ${record.Id} is not running`);
  const runtime = containers.runtime(record.HostConfig.Runtime);
  const c = session.config;
  const pidDir = join(engine.opts.runRoot ?? '/run/raind', 'exec');
  mkdirSync(pidDir, { recursive: true, mode: 0o700 });
  const pidFile = join(pidDir, `${session.id}.pid`);
  const args = ['exec', '--pid-file', pidFile];
  if (c.Tty) args.push('--tty');
  for (const e of c.Env) args.push('--env', e);
  if (c.WorkingDir) args.push('--cwd', c.WorkingDir);
  if (c.User) {
    const user = resolveUser(join(containers.store.dir(record.Id), 'merged'), c.User);
    args.push('--user', `${user.uid}:${user.gid}`);
  }
  args.push(record.Id, ...c.Cmd);
  const child = spawn(runtime.path, [...runtime.globalArgs, ...args], {
    stdio: [c.AttachStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  session.started = true;
  session.running = true;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  const stopWatching = watchPid(session, pidFile);
  const done = new Promise<void>((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
      stopWatching();
      rmSync(pidFile, { force: true });
      session.running = false;
      session.endedAt = Date.now();
      if (error) session.exitCode = 126;
      else if (code === null) session.exitCode = 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
      /* the runtime failed before the command ran: docker's 127 (not found) and 126 */ else if (session.pid === 0 && code !== 0)
        session.exitCode = /not found|no such file/i.test(stderr) ? 127 : 126;
      else session.exitCode = code;
      resolve();
    };
    child.once('error', (e) => finish(null, null, e));
    child.once('close', (code, signal) => finish(code, signal));
  });
  return { child, done };
}

/** Polls for the runtime's pid file; the terminal's size is set as soon as it is there. */
function watchPid(session: ExecSession, pidFile: string): () => void {
  const timer = setInterval(() => {
    let text: string;
    try {
      text = readFileSync(pidFile, 'utf8').trim();
    } catch {
      return;
    }
    if (!/^\d+$/.test(text)) return;
    session.pid = Number(text);
    clearInterval(timer);
    if (session.size) resizeSession(session, session.size.rows, session.size.cols);
  }, 10);
  return () => {
    clearInterval(timer);
    /* a short command can end between two polls */
    if (session.pid === 0) {
      try {
        const text = readFileSync(pidFile, 'utf8').trim();
        if (/^\d+$/.test(text)) session.pid = Number(text);
      } catch {}
    }
  };
}

/** The exec's terminal size: kept for when the process is there, set on its terminal when
 * it is (the pty's slave, its fd 0: the size is the pty's, and the process gets SIGWINCH). */
export function resizeSession(session: ExecSession, rows: number, cols: number): void {
  session.size = { rows, cols };
  if (!session.config.Tty || !session.running || session.pid === 0) return;
  let fd: number;
  try {
    fd = openSync(`/proc/${session.pid}/fd/0`, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch {
    return;
  }
  try {
    native().setWinsize(fd, rows, cols);
  } catch {
    /* not a terminal (any more) */
  } finally {
    closeSync(fd);
  }
}
