import { read, writeSync } from 'node:fs';
import { native } from './native.js';

export interface TerminalProxy {
  /** resolves when the container side of the terminal is gone and its output is written */
  done: Promise<void>;
  /** gives droplet's terminal back as it was */
  restore(): void;
}

/** `run` in the foreground with process.terminal and no --console-socket: droplet's own
 * terminal drives the container's pty, in raw mode, with its window size followed. */
export function proxyTerminal(master: number): TerminalProxy {
  const stdin = process.stdin;
  const out = process.stdout;
  const resize = () => {
    if (out.isTTY && out.rows && out.columns) native().setWinsize(master, out.rows, out.columns);
  };
  resize();
  if (out.isTTY) out.on('resize', resize);
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.on('data', (d: Buffer) => {
    try {
      writeSync(master, d);
    } catch {
      /* the container closed its terminal */
    }
  });
  /* a pipe that ends is end-of-file for the shell on the terminal: ^D */
  stdin.on('end', () => {
    try {
      writeSync(master, '\x04');
    } catch {
      /* gone */
    }
  });

  const done = new Promise<void>((resolve) => {
    const buf = Buffer.alloc(65536);
    const next = () =>
      read(master, buf, 0, buf.length, null, (err, n) => {
        /* EIO: the last process holding the terminal's slave side exited */
        if (err || n === 0) return resolve();
        writeSync(1, buf.subarray(0, n));
        next();
      });
    next();
  });
  return {
    done,
    restore() {
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
    },
  };
}
