/** The terminal raind runs on, when it relays a container's terminal. */
import { native } from '../lib/native.js';

/** Rows and columns of our terminal (stdout's, as docker takes), if stdout is one. */
export function terminalSize(): { rows: number; cols: number } | undefined {
  const out = process.stdout;
  if (!out.isTTY || !out.rows || !out.columns) return undefined;
  return { rows: out.rows, cols: out.columns };
}

/** Calls onResize with the new size whenever our terminal's size changes (SIGWINCH).
 * Returns the function that stops watching. */
export function watchTerminalSize(onResize: (size: { rows: number; cols: number }) => void): () => void {
  if (!process.stdout.isTTY) return () => {};
  const handler = () => {
    /* the stream updates rows and columns on SIGWINCH; read them after it did */
    setImmediate(() => {
      const size = terminalSize();
      if (size) onResize(size);
    });
  };
  process.on('SIGWINCH', handler);
  return () => process.off('SIGWINCH', handler);
}

/** Puts stdin's terminal in raw mode, as docker's and podman's clients do: keys go to the
 * container as typed, ctrl-c included, and its output is shown untouched. Returns the
 * function that gives the terminal back as it was; it is also called at exit, whatever way
 * raind exits. Without a terminal on stdin, nothing changes. */
export function enterRawMode(): () => void {
  if (!process.stdin.isTTY) return () => {};
  const saved = native().makeRaw(0);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    process.off('exit', restore);
    try {
      native().restoreTermios(0, saved);
    } catch {
      /* the terminal is gone (hung up) */
    }
  };
  process.on('exit', restore);
  return restore;
}
