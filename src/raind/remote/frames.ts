/** docker's multiplexed stream read as it comes: 8-byte headers (stream, 3 zero bytes,
 * big-endian length) before each payload; payloads go to `onFrame` whole, whatever the
 * chunks they arrived in. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + length) return;
      this.onFrame(this.pending[0] ?? 1, this.pending.subarray(8, 8 + length));
      this.pending = this.pending.subarray(8 + length);
    }
  }
}
