import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { native } from '../../lib/native.js';
import { pollReads, writePolled } from '../../lib/polled-fd.js';
import type { Engine } from '../engine.js';
import { resolveUser } from '../containers/user.js';
import { containerCapabilities } from '../containers/capabilities.js';
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
  terminal?: { resize(rows: number, cols: number): void };
}

/** A started exec: its input, and the end. */
export interface ExecProcess {
  /** to the command's stdin (or its terminal) */
  input(data: Buffer): void;
  /** no more input: stdin closes; on a terminal, ^D */
  endInput(): void;
  /** resolves once the command has exited and its output is handed on */
  done: Promise<void>;
}

/** Output of an exec: 1 stdout, 2 stderr (a terminal's is all stdout). */
export type ExecOutput = (stream: 1 | 2, data: Buffer) => void;

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
  /* a user the image does not know is told at once, not as a failed upgrade at start */
  if (config.User) resolveUser(join(engine.containers.store.dir(containerId), 'merged'), config.User);
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

/** How long a terminal's output is still read after the command exited: a process it
 * left in the background may hold the terminal open for ever. */
const TERMINAL_DRAIN_MS = 500;

/** Runs the exec with the container's runtime (`exec`, in the container's namespaces, as
 * `raind exec` does). Without a terminal its stdout and stderr are pipes; with one, the
 * runtime makes the pty and sends us its master through a console socket (OCI's
 * --console-socket), which we read and write and size. */
export function startSession(engine: Engine, session: ExecSession, onOutput: ExecOutput): ExecProcess {
  const containers = engine.containers;
  const record = containers.inspect(session.containerId);
  if (record.State.Status !== 'running') throw new ApiError(409, `Container ${record.Id} is not running`);
  const runtime = containers.runtime(record.HostConfig.Runtime);
  const c = session.config;
  const dir = join(engine.opts.runRoot ?? '/run/raind', 'exec');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  /* short: a socket's path must fit in 108 bytes */
  const base = join(dir, session.id.slice(0, 16));
  const pidFile = `${base}.pid`;
  const args = ['exec', '--pid-file', pidFile];
  /* before the terminal's socket is made: a user the image does not know is refused here */
  const user = c.User ? resolveUser(join(containers.store.dir(record.Id), 'merged'), c.User) : undefined;
  let terminal: Terminal | undefined;
  /* runc and crun take a console socket only with --detach, where the exit code is lost:
   * they run in the foreground on a terminal of their own (util-linux script's), relaying
   * it to the command's, whose size is then set on the command's side */
  const ownTerminal = c.Tty && runtime.name !== 'droplet';
  if (c.Tty && !ownTerminal) {
    terminal = new Terminal(`${base}.sock`, session, onOutput);
    args.push('--tty', '--console-socket', terminal.path);
  } else if (ownTerminal) args.push('--tty');
  for (const e of c.Env) args.push('--env', e);
  if (c.WorkingDir) args.push('--cwd', c.WorkingDir);
  if (user) args.push('--user', `${user.uid}:${user.gid}`);
  /* docker's exec --privileged: every capability the host has */
  if (c.Privileged) for (const cap of containerCapabilities([], [], true)) args.push('--cap', cap);
  args.push(record.Id, ...c.Cmd);
  const argv = [runtime.path, ...runtime.globalArgs, ...args];
  const [file, ...rest] = ownTerminal ? ['script', '-q', '-e', '-c', argv.map(shellQuote).join(' '), '/dev/null'] : argv;
  const child = spawn(file ?? '', rest, {
    stdio: [c.AttachStdin && !terminal ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  if (ownTerminal) session.terminal = { resize: (rows, cols) => resizeByPid(session, rows, cols) };
  session.started = true;
  session.running = true;
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    /* on script's terminal the runtime's complaints come with the output */
    if (ownTerminal && session.pid === 0 && stderr.length < 4096) stderr += d.toString();
    onOutput(1, d);
  });
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
    onOutput(terminal ? 1 : 2, d);
  });
  child.stdin?.on('error', () => {});
  const stopWatching = watchPid(session, pidFile);
  const done = new Promise<void>((resolve) => {
    const finish = async (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
      stopWatching();
      rmSync(pidFile, { force: true });
      await terminal?.close();
      /* docker's 126 when the command could not run, 127 when it is not there */
      const failedToRun = () => (/not found|no such file/i.test(stderr) ? 127 : 126);
      if (error) session.exitCode = 126;
      else if (code === null) session.exitCode = 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
      else if (session.pid === 0 && code !== 0) session.exitCode = failedToRun();
      else session.exitCode = code;
      session.running = false;
      session.endedAt = Date.now();
      resolve();
    };
    child.once('error', (e) => void finish(null, null, e));
    child.once('close', (code, signal) => void finish(code, signal));
  });
  if (terminal) {
    const t = terminal;
    session.terminal = t;
    return { input: (d) => t.write(d), endInput: () => t.write(Buffer.from([4])), done };
  }
  return {
    input: (d) => {
      if (child.stdin?.writable) child.stdin.write(d);
    },
    endInput: () => child.stdin?.end(),
    done,
  };
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The size of the terminal of a command the runtime relays: set on the command's side of
 * it, its fd 0 (the size is the pty's, and the command gets SIGWINCH). */
function resizeByPid(session: ExecSession, rows: number, cols: number): void {
  if (session.pid === 0) return;
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

/** The master of an exec's terminal, received on a console socket: its output handed on,
 * input written in order, its size set. */
class Terminal {
  private master = -1;
  private listener: number;
  private poll: NodeJS.Timeout;
  private writes: Promise<void> = Promise.resolve();
  private closing = false;
  private readEnded: Promise<void> | undefined;
  private stopReading = () => {};

  constructor(
    readonly path: string,
    private readonly session: ExecSession,
    private readonly onOutput: ExecOutput,
  ) {
    rmSync(path, { force: true });
    this.listener = native().listenUnix(path);
    this.poll = setInterval(() => this.tryReceive(), 10);
  }

  private tryReceive(): void {
    let fd: number;
    try {
      fd = native().tryReceiveFd(this.listener);
    } catch {
      this.stopListening();
      return;
    }
    if (fd < 0) return;
    this.stopListening();
    this.master = fd;
    const size = this.session.size;
    if (size) this.resize(size.rows, size.cols);
    /* read on timers, not in the thread pool (see pollReads) */
    native().setNonBlocking(fd);
    const reads = pollReads(fd, 65536, (data) => {
      if (!this.closing) this.onOutput(1, data);
    });
    this.stopReading = reads.stop;
    /* EIO: every process holding the terminal's other side is gone */
    this.readEnded = reads.ended;
  }

  private stopListening(): void {
    clearInterval(this.poll);
    if (this.listener >= 0) {
      closeSync(this.listener);
      this.listener = -1;
      rmSync(this.path, { force: true });
    }
  }

  write(data: Buffer): void {
    this.writes = this.writes.then(async () => {
      if (this.master >= 0 && !this.closing) await writePolled(this.master, data);
    });
  }

  resize(rows: number, cols: number): void {
    if (this.master < 0 || this.closing) return;
    try {
      native().setWinsize(this.master, rows, cols);
    } catch {
      /* the terminal is gone */
    }
  }

  /** Once the command has exited: what it wrote last is read (for a while), then no more. */
  async close(): Promise<void> {
    /* the runtime may have sent the master just before it exited */
    if (this.listener >= 0) this.tryReceive();
    this.stopListening();
    if (this.readEnded) await Promise.race([this.readEnded, new Promise((r) => setTimeout(r, TERMINAL_DRAIN_MS))]);
    this.closing = true;
    this.stopReading();
    await this.writes;
    if (this.master >= 0) closeSync(this.master);
  }
}

/** Polls for the runtime's pid file: the exec's Pid, and the sign that the command ran. */
function watchPid(session: ExecSession, pidFile: string): () => void {
  const look = () => {
    try {
      const text = readFileSync(pidFile, 'utf8').trim();
      if (/^\d+$/.test(text)) session.pid = Number(text);
    } catch {}
    return session.pid !== 0;
  };
  const timer = setInterval(() => {
    if (!look()) return;
    clearInterval(timer);
    const size = session.size;
    if (size) session.terminal?.resize(size.rows, size.cols);
  }, 10);
  return () => {
    clearInterval(timer);
    /* a short command can end between two polls */
    if (session.pid === 0) look();
  };
}

/** The exec's terminal size: kept for when the terminal is there, set on it when it is. */
export function resizeSession(session: ExecSession, rows: number, cols: number): void {
  session.size = { rows, cols };
  if (session.config.Tty && session.running) session.terminal?.resize(rows, cols);
}
