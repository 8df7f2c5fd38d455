/** docker's multiplexed stream (attach, logs and exec without a terminal): each chunk is
 * framed by 8 bytes, the stream (0 stdin, 1 stdout, 2 stderr), three zero bytes, and the
 * length as a big-endian uint32. */
export type StreamId = 0 | 1 | 2;

export function frame(stream: StreamId, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

/** The content type of a hijacked stream: multiplexed without a terminal, raw with one. */
export function streamContentType(tty: boolean): string {
  return tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream';
}
