import { closeSync, read, readSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { UserError } from '../../lib/errors.js';
import type { PlanRecord } from '../plan/encode.js';
import { encodePlan } from '../plan/encode.js';
import { Tag } from '../plan/tags.js';
import { native, nativeFile } from '../../lib/native.js';

/** The C init, built by node-gyp, installed beside the addon. */
export function initBinary(): string {
  return process.env.DROPLET_INIT ?? nativeFile('droplet-init');
}

/** A launched init: the launcher process (droplet's child, which clones the init) and the
 * sync socket to both. The protocol is lines: "pid N", then "ready" or "error\t...". */
export class InitProcess {
  pid = 0;
  /** the container's pty master, when droplet itself is the container's terminal (run) */
  consoleMaster?: number;
  private buffered = '';
  private launcherStatus: number | undefined;

  private constructor(
    private readonly launcher: number,
    private fd: number,
    private readonly records: PlanRecord[],
  ) {}

  /** Spawns droplet-init and sends it the plan. argv is what ps shows: for a container's init
   * `droplet init ID FIFO ARGS...`, for an exec'd process `droplet exec ID ARGS...`. */
  static start(argv: string[], records: PlanRecord[], preserveFds: number): InitProcess {
    /* encoded first: a plan too large fails before there is a process */
    const plan = encodePlan(records);
    let launcher: number;
    let fd: number;
    try {
      [launcher, fd] = native().spawnInit(initBinary(), argv, preserveFds);
    } catch (err) {
      throw new UserError(`start droplet-init: ${(err as Error).message}`);
    }
    const init = new InitProcess(launcher, fd, records);
    try {
      for (let off = 0; off < plan.length; ) off += writeSync(fd, plan, off);
    } catch {
      /* the launcher died: its status explains it (failure() below) */
    }
    return init;
  }

  private readLine(): string | null {
    const buf = Buffer.alloc(4096);
    for (;;) {
      const nl = this.buffered.indexOf('\n');
      if (nl >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        return line;
      }
      let n: number;
      try {
        n = readSync(this.fd, buf, 0, buf.length, null);
      } catch {
        n = 0;
      }
      if (n === 0) return null;
      this.buffered += buf.toString('utf8', 0, n);
    }
  }

  /** Waits for the init's pid: the namespaces exist, the init waits for the go. */
  waitForPid(): number {
    const line = this.readLine();
    if (!line?.startsWith('pid ')) throw this.failure(line);
    this.pid = Number(line.slice(4));
    return this.pid;
  }

  /** Lets the init build the container, and waits until it blocks on exec.fifo. The states
   * are what the init's createContainer and startContainer hooks read, the payload what a
   * seccomp notify listener gets with its fd; runtimeHooks runs
   * when the init has mounted the container's filesystems, before pivot_root. */
  go(createState: string, startState: string, listenerPayload: string, runtimeHooks: () => void): void {
    const parts = [createState, startState, listenerPayload].map((p) => Buffer.from(p));
    const msg = Buffer.alloc(1 + parts.reduce((n, p) => n + 4 + p.length, 0));
    msg.write('g', 0);
    let at = 1;
    for (const p of parts) {
      msg.writeUInt32LE(p.length, at);
      p.copy(msg, at + 4);
      at += 4 + p.length;
    }
    for (let off = 0; off < msg.length; ) off += writeSync(this.fd, msg, off);
    let line = this.readLine();
    if (line === 'hooks') {
      runtimeHooks();
      writeSync(this.fd, 'c');
      line = this.readLine();
    }
    if (line !== 'ready') throw this.failure(line);
  }

  /** create: the launcher exits once the init is ready; reap it and close the socket. */
  release(): void {
    this.waitLauncher();
    this.close();
  }

  /** run: the launcher stays until the container exits, then exits with its status. The
   * socket reaches end-of-file then; reading it off the main thread keeps signals flowing. */
  waitExit(): Promise<number> {
    return new Promise((resolve) => {
      const buf = Buffer.alloc(64);
      const next = () =>
        read(this.fd, buf, 0, buf.length, null, (err, n) => {
          if (!err && n > 0) return next();
          resolve(this.waitLauncher());
          this.close();
        });
      next();
    });
  }

  private waitLauncher(): number {
    this.launcherStatus ??= native().waitPid(this.launcher);
    return this.launcherStatus;
  }

  private close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** The user-facing error for a failure line of the init, or for its silent death. */
  private failure(line: string | null): UserError {
    if (line?.startsWith('error\t')) {
      // a line cut short names no step and gives no text
      const [, rec, errno, text = '', detail = ''] = line.split('\t');
      return new UserError(describeInitError(this.records[Number(rec)], Number(errno), text, detail));
    }
    this.kill('SIGKILL');
    return new InitDied(this.waitLauncher());
  }

  kill(signal: NodeJS.Signals | number): void {
    if (this.pid) {
      try {
        process.kill(this.pid, signal);
      } catch {
        /* already gone */
      }
    }
  }

  /** After a failed create: make sure the init is gone and reap the launcher. */
  abort(): void {
    this.kill('SIGKILL');
    this.waitLauncher();
    this.close();
  }
}

/** The init died before it was ready without reporting why: status is its exit code, or
 * 128+n for signal n. The caller, which knows the config and the cgroup, may say more. */
export class InitDied extends UserError {
  constructor(readonly status: number) {
    super(
      status > 128 && status < 128 + 65
        ? `init was killed by ${signalName(status - 128)} before the container was ready`
        : `init exited with status ${status} before the container was ready`,
    );
  }

  get signal(): number | undefined {
    return this.status > 128 && this.status < 128 + 65 ? this.status - 128 : undefined;
  }
}

function signalName(n: number): string {
  const name = Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0];
  return name ?? `signal ${n}`;
}

const ENOENT = 2;
const EPERM = 1;

/** (record, errno) from the init -> `mount "proc" on /proc: operation not permitted (mounts[0])` */
export function describeInitError(rec: PlanRecord | undefined, errno: number, text: string, detail: string): string {
  const why = text ? text.charAt(0).toLowerCase() + text.slice(1) : `errno ${errno}`;
  if (!rec) return `init: ${detail}: ${why}`;
  const where = rec.field ? ` (${rec.field})` : '';
  if (rec.tag === Tag.Exec && errno === ENOENT && !detail.includes('/'))
    return `exec: "${detail}": executable file not found in $PATH${where}`;
  /* the one rlimit failure the host decides: without CAP_SYS_RESOURCE no hard limit rises */
  if (rec.tag === Tag.Rlimit && errno === EPERM)
    return `${rec.what}: ${why}: above the host's hard limit, which only CAP_SYS_RESOURCE may raise${where}`;
  /* A step that does several things says which one failed. */
  const showDetail =
    detail &&
    !rec.what.includes(detail) &&
    (rec.tag === Tag.User || rec.tag === Tag.Pivot || rec.tag === Tag.Caps || rec.tag === Tag.Clone || rec.tag === Tag.Mount);
  return `${rec.what}${showDetail ? `: ${detail}` : ''}: ${why}${where}`;
}
