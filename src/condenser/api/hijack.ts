import type { ApiRequest } from './request.js';
import { streamContentType } from './stream-frames.js';

/** A connection taken over by attach or exec start: the container's output goes to the
 * client, the client's input comes back (docker's hijacked stream). */
export interface HijackedStream {
  /** output to the client; dropped once the client is gone */
  write(data: Buffer): void;
  /** no more output: the connection closes once what was written is sent */
  end(): void;
  /** the client's input, as it comes (what arrived with the request first); input nobody
   * reads is thrown away, so that the client's end and close are still seen */
  readInput(onData: (data: Buffer) => void, onEnd: () => void): void;
  /** resolves when the connection is closed, by either side */
  closed: Promise<void>;
}

/** Answers 101 and takes the connection over (docker CLI 28 always asks `Upgrade: tcp`).
 * A client that did not ask for the upgrade gets the output as a 200 body, and no input. */
export function hijack(r: ApiRequest, tty: boolean): HijackedStream {
  const contentType = streamContentType(tty);
  if (!r.upgrade) {
    r.status = 200;
    const res = r.res;
    res.writeHead(200, { 'Content-Type': contentType });
    res.flushHeaders();
    const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
    return {
      write: (data) => {
        if (!res.writableEnded && !res.destroyed) res.write(data);
      },
      end: () => {
        if (!res.writableEnded) res.end();
      },
      readInput: () => {},
      closed,
    };
  }
  r.status = 101;
  const { socket, head } = r.upgrade;
  socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
  const closed = new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    socket.once('close', () => resolve());
  });
  let reading = false;
  const readInput = (onData: (data: Buffer) => void, onEnd: () => void) => {
    if (reading) return;
    reading = true;
    if (head.length > 0) onData(head);
    socket.on('data', (d: Buffer) => onData(d));
    socket.once('end', onEnd);
  };
  /* nobody asked for the input: read it anyway, or the client's end is never seen */
  setImmediate(() =>
    readInput(
      () => {},
      () => {},
    ),
  );
  return {
    write: (data) => {
      if (socket.writable) socket.write(data);
    },
    end: () => {
      if (socket.writable) socket.end();
      else if (!socket.destroyed) socket.destroy();
    },
    readInput,
    closed,
  };
}
