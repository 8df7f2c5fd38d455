const cell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread: the CLI's short waits (a lock, a dying process) need no event loop. */
export function sleepMs(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}
