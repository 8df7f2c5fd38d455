import { readSync, writeSync } from 'node:fs';

/** The longest wait between two reads of an idle fd; after data the next read is at once. */
const MAX_IDLE_MS = 40;

/** Packets (or chunks) read at most in one go, so that one busy fd does not hold the loop. */
const BURST = 64;

/** Reads a non-blocking fd (native().setNonBlocking) on timers, never in the thread pool:
 * a server with many attaches would otherwise hold a pool thread in each read, and once the
 * pool is full nothing else of it runs, not even the writes the reads wait for. Each read
 * is one packet on a SOCK_SEQPACKET socket. `ended` resolves at end-of-file, at an error
 * (EIO: a pty's other side is gone) or after stop(). */
export function pollReads(fd: number, bufferSize: number, onData: (data: Buffer) => void): { ended: Promise<void>; stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let finish = () => {};
  const ended = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const buf = Buffer.alloc(bufferSize);
  let idle = 1;
  const step = () => {
    timer = undefined;
    for (let i = 0; i < BURST && !stopped; i++) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
          if (i > 0) idle = 1;
          timer = setTimeout(step, i > 0 ? 0 : idle);
          idle = Math.min(MAX_IDLE_MS, idle * 2);
          return;
        }
        n = 0;
      }
      if (n === 0) {
        stopped = true;
        break;
      }
      onData(Buffer.from(buf.subarray(0, n)));
    }
    if (stopped) return finish();
    idle = 1;
    timer = setTimeout(step, 0);
  };
  step();
  return {
    ended,
    stop: () => {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      finish();
    },
  };
}

/** Writes all of data to a non-blocking fd, waiting while it is full (EAGAIN). False when
 * the fd refused it (the other side is gone). */
export async function writePolled(fd: number, data: Buffer): Promise<boolean> {
  let off = 0;
  let wait = 1;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off);
      wait = 1;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return false;
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(MAX_IDLE_MS, wait * 2);
    }
  }
  return true;
}
