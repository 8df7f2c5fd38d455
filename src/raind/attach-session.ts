import { writeSync } from 'node:fs';
import { sleepMs } from '../lib/sleep.js';
import type { Engine } from '../condenser/engine.js';
import type { ContainerRecord } from '../condenser/containers/record.js';
import type { AttachSocket, OutputStream } from '../condenser/monitor/attach-socket.js';
import { DetachKeyFilter } from '../lib/detach-keys.js';
import { enterRawMode, terminalSize, watchTerminalSize } from './local-terminal.js';
import { proxySignals } from './signal-proxy.js';

export interface AttachOptions {
  /** relay our stdin to the container's (it was created with -i) */
  stdin: boolean;
  /** the detach sequence; empty: detaching is off */
  detachKeys: Buffer;
}

/** How an attach ended: the container exited (conmon closed the connection), or the
 * detach keys were typed and the container goes on. */
export type AttachOutcome = 'exited' | 'detached';

/** One attach to a container: its output to ours (stdout and stderr apart), our stdin to
 * its stdin, our terminal's size to its terminal (or, without one, our signals to it).
 * connect(), then relay(), and end() on every way out: it gives our terminal back. */
export class AttachSession {
  private socket: AttachSocket | undefined;
  private tty = false;
  private restoreTerminal = () => {};
  private stopWatchingSize = () => {};
  private stopReadingStdin = () => {};
  private stopProxyingSignals = () => {};
  private detached: (() => void) | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly options: AttachOptions,
  ) {}

  get connected(): boolean {
    return this.socket !== undefined;
  }

  /** Connects to the container's attach socket; with a terminal, ours goes raw and its size
   * is sent. Output printed from here on is all the container writes. */
  connect(record: ContainerRecord): void {
    this.socket = this.engine.containers.attach(record.Id, writeOutput);
    this.tty = record.Config.Tty;
    if (!this.tty) {
      this.stopProxyingSignals = proxySignals(this.engine, record.Id);
      return;
    }
    if (this.options.stdin) this.restoreTerminal = enterRawMode();
    const resize = (size: { rows: number; cols: number }) => this.engine.containers.resizeTerminal(record.Id, size.rows, size.cols);
    const size = terminalSize();
    if (size) resize(size);
    this.stopWatchingSize = watchTerminalSize(resize);
  }

  /** Relays until the container exits or the detach keys are typed. */
  async relay(): Promise<AttachOutcome> {
    const socket = this.socket;
    if (!socket) throw new Error('relay before connect');
    const detached = new Promise<'detached'>((resolve) => {
      this.detached = () => resolve('detached');
    });
    if (this.options.stdin) this.relayStdin(socket, this.tty);
    return Promise.race([socket.ended.then(() => 'exited' as const), detached]);
  }

  private relayStdin(socket: AttachSocket, tty: boolean): void {
    const stdin = process.stdin;
    const filter = new DetachKeyFilter(this.options.detachKeys);
    const onData = (chunk: Buffer) => {
      const { pass, detach } = filter.feed(chunk);
      if (pass.length > 0) void socket.send(pass);
      if (detach) this.detached?.();
    };
    /* the end of a pipe: a terminal reads ^D as end of input; without one, conmon closes
     * the container's stdin (run -i: StdinOnce) */
    const onEnd = () => void (tty ? socket.send(Buffer.from([4])) : socket.endInput());
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    this.stopReadingStdin = () => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
    };
  }

  /** Stops relaying, leaves the socket (the container goes on) and gives our terminal back. */
  end(): void {
    this.stopReadingStdin();
    this.stopProxyingSignals();
    this.stopWatchingSize();
    this.restoreTerminal();
    this.socket?.close();
  }
}

/** The container's output, written at once (the socket's buffer is reused). Our stdout can
 * be non-blocking (a terminal shared with stdin): wait for it rather than drop output. */
function writeOutput(stream: OutputStream, data: Buffer): void {
  const fd = stream === 'stderr' ? 2 : 1;
  for (let off = 0; off < data.length; ) {
    try {
      off += writeSync(fd, data, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      sleepMs(1);
    }
  }
}
