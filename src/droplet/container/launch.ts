import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { UserError } from '../../common/errors.js';
import type { PlanRecord } from '../plan/encode.js';
import { encodePlan } from '../plan/encode.js';
import { Tag } from '../plan/tags.js';

/** The C init, built by node-gyp next to the bundle's parent directory. */
export function initBinary(): string {
  return process.env.DROPLET_INIT ?? join(__dirname, '..', 'build', 'Release', 'droplet-init');
}

/** A launched init: the launcher process (droplet's child) and the sync socket to the init. */
export class InitProcess {
  pid = 0;
  private buffered = '';
  private waiters: Array<(line: string | null) => void> = [];
  private ended = false;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    child: ChildProcess,
    private readonly sock: Socket,
    private readonly records: PlanRecord[],
  ) {
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      this.buffered += chunk;
      this.flush();
    });
    const end = () => {
      this.ended = true;
      this.flush();
    };
    sock.on('end', end);
    sock.on('close', end);
    sock.on('error', end);
  }

  /** Spawns droplet-init, shown by ps as `droplet init ID FIFO ARGS...`, and sends the plan. */
  static start(id: string, fifo: string, args: string[], records: PlanRecord[]): InitProcess {
    /* Loaded here, not at the top: child_process costs 3-4 ms, and only create and run need it. */
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    const child = spawn(initBinary(), ['init', id, fifo, ...args], {
      argv0: 'droplet',
      stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    });
    const sock = child.stdio[3] as Socket;
    const init = new InitProcess(child, sock, records);
    child.on('error', () => init.sock.destroy());
    sock.write(encodePlan(records));
    return init;
  }

  private flush(): void {
    for (;;) {
      const nl = this.buffered.indexOf('\n');
      if (nl < 0 || this.waiters.length === 0) break;
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      this.waiters.shift()!(line);
    }
    if (this.ended && this.buffered.indexOf('\n') < 0) while (this.waiters.length) this.waiters.shift()!(null);
  }

  private nextLine(): Promise<string | null> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.flush();
    });
  }

  /** Waits for the init's pid: the namespaces exist, the init waits for the go. */
  async waitForPid(): Promise<number> {
    const line = await this.nextLine();
    if (line?.startsWith('pid ')) return (this.pid = Number(line.slice(4)));
    throw await this.failure(line);
  }

  /** Lets the init build the container, and waits until it is ready to exec. */
  async go(): Promise<void> {
    this.sock.write('g');
    const line = await this.nextLine();
    if (line === 'ready') {
      this.sock.destroy();
      return;
    }
    throw await this.failure(line);
  }

  /** The user-facing error for a failure line of the init, or for its silent death. */
  private async failure(line: string | null): Promise<UserError> {
    this.sock.destroy();
    if (line?.startsWith('error\t')) {
      const [, rec, errno, text, detail] = line.split('\t');
      return new UserError(describeInitError(this.records[Number(rec)], Number(errno), text, detail));
    }
    const { code, signal } = await this.exited;
    return new UserError(`init exited before the container was ready (${signal ? `signal ${signal}` : `status ${code}`})`);
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
}

const ENOENT = 2;

/** (record, errno) from the init -> `mount "proc" on /proc: operation not permitted (mounts[0])` */
export function describeInitError(rec: PlanRecord | undefined, errno: number, text: string, detail: string): string {
  const why = text ? text.charAt(0).toLowerCase() + text.slice(1) : `errno ${errno}`;
  if (!rec) return `init: ${detail}: ${why}`;
  const where = rec.field ? ` (${rec.field})` : '';
  if (rec.tag === Tag.Exec && errno === ENOENT && !detail.includes('/'))
    return `exec: "${detail}": executable file not found in $PATH${where}`;
  /* A step that does several things says which one failed. */
  const showDetail = detail && !rec.what.includes(detail) && (rec.tag === Tag.User || rec.tag === Tag.Pivot || rec.tag === Tag.Caps || rec.tag === Tag.Clone || rec.tag === Tag.Mount);
  return `${rec.what}${showDetail ? `: ${detail}` : ''}: ${why}${where}`;
}
