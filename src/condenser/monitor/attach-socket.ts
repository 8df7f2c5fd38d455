import { closeSync, constants, openSync, read, write, writeSync } from 'node:fs';
import { UserError } from '../../lib/errors.js';
import { native } from '../../lib/native.js';
import { pollReads, writePolled } from '../../lib/polled-fd.js';

/** The container's output streams. */
export type OutputStream = 'stdout' | 'stderr';

/** conmon's first byte of a packet names the stream: its stdpipe_t, where 1 is stdin (never
 * sent), 2 stdout and 3 stderr (podman's AttachPipeStdout and AttachPipeStderr). */
const STREAM_OF_BYTE: Record<number, OutputStream> = { 2: 'stdout', 3: 'stderr' };

/** conmon sends at most 8192 bytes of output a packet, after the stream's byte. */
const PACKET_BUFFER = 65536;

/** conmon reads a packet of stdin into a buffer of 32 KiB less one and drops what does not
 * fit: longer input goes in packets no bigger than this. */
const INPUT_PACKET = 8192;

/** sun_path holds 108 bytes, the final NUL included. */
const MAX_SOCKET_PATH = 107;

/** One client of conmon's attach socket (SOCK_SEQPACKET): every packet from conmon is one
 * byte naming the stream (2 stdout, 3 stderr) and the data; what the client sends is the
 * container's stdin (conmon -i). conmon closes the connection when the container exits.
 * Reads and writes run in the thread pool, so the event loop stays free for whatever
 * feeds stdin. */
export class AttachSocket {
  /** resolves once conmon has closed the connection, or close() was called */
  readonly ended: Promise<void>;
  private writes: Promise<void> = Promise.resolve();
  private closing = false;
  private stopPolling = () => {};

  private constructor(
    private readonly fd: number,
    onOutput: (stream: OutputStream, data: Buffer) => void,
    private readonly polled: boolean,
  ) {
    const packet = (buf: Buffer, n: number) => {
      const stream = STREAM_OF_BYTE[buf[0] ?? 0];
      /* a byte conmon does not send today: ignore it rather than guess */
      if (stream && n > 1) onOutput(stream, buf.subarray(1, n));
    };
    if (polled) {
      native().setNonBlocking(fd);
      const reads = pollReads(fd, PACKET_BUFFER, (data) => packet(data, data.length));
      this.stopPolling = reads.stop;
      this.ended = reads.ended;
      return;
    }
    this.ended = new Promise((resolve) => {
      const buf = Buffer.alloc(PACKET_BUFFER);
      const next = () =>
        read(fd, buf, 0, buf.length, null, (err, n) => {
          if (err || n === 0 || this.closing) return resolve();
          packet(buf, n);
          next();
        });
      next();
    });
  }

  /** Connects to the socket at path; output is handed to onOutput as it comes. `polled`
   * reads on timers instead of in the thread pool: for a server, with many attaches. */
  static connect(path: string, onOutput: (stream: OutputStream, data: Buffer) => void, polled = false): AttachSocket {
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH)
      throw new UserError(`attach: the socket path ${path} is longer than a unix socket allows (${MAX_SOCKET_PATH} bytes)`);
    let fd: number;
    try {
      fd = native().connectSeqpacket(path);
    } catch (e) {
      throw new UserError(`attach: cannot connect to the container's monitor: ${(e as Error).message}`, { kind: 'host' });
    }
    return new AttachSocket(fd, onOutput, polled);
  }

  /** Sends input to the container's stdin, in order, in packets conmon reads whole. */
  send(data: Buffer): Promise<void> {
    for (let off = 0; off < data.length; off += INPUT_PACKET) {
      const packet = data.subarray(off, off + INPUT_PACKET);
      this.writes = this.writes.then(() => this.writePacket(packet));
    }
    return this.writes;
  }

  private writePacket(packet: Buffer): Promise<void> {
    if (this.polled) return this.closing ? Promise.resolve() : writePolled(this.fd, packet).then(() => {});
    return new Promise((resolve) => {
      if (this.closing) return resolve();
      /* EPIPE or ECONNRESET: the container exited; the read side sees the end */
      write(this.fd, packet, () => resolve());
    });
  }

  /** No more input: conmon closes the container's stdin, unless it was told to keep it
   * open (--leave-stdin-open). Output still comes. */
  async endInput(): Promise<void> {
    await this.writes;
    if (!this.closing) native().shutdownSocket(this.fd, 1);
  }

  /** Leaves: the container goes on; a read still waiting wakes up and ends. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    try {
      native().shutdownSocket(this.fd, 2);
    } catch {
      /* already gone */
    }
    this.stopPolling();
    /* once the read has returned: closing an fd a thread still reads could hand its number
     * to another file meanwhile */
    void this.ended.then(() => closeSync(this.fd));
  }
}

/** Sets the size of the container's terminal through conmon's control FIFO (`ctl` in the
 * bundle): the line "1 HEIGHT WIDTH" is a resize (conmon's WIN_RESIZE_EVENT); conmon applies
 * sizes between 0 and 1000. False when conmon is not there to read it. */
export function resizeTerminal(ctlFifo: string, rows: number, cols: number): boolean {
  const clamp = (n: number) => Math.max(0, Math.min(1000, Math.floor(n)));
  let fd: number;
  try {
    /* non-blocking: a FIFO without its reader (conmon gone) fails with ENXIO instead of
     * waiting; conmon keeps a writer of its own open, so a live one always reads */
    fd = openSync(ctlFifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    writeSync(fd, `1 ${clamp(rows)} ${clamp(cols)}\n`);
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}
