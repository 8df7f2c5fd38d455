import { pack } from 'tar-stream';

/** One entry of a test archive. */
export interface TarEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo';
  content?: Buffer | string;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

/** An uncompressed tar archive in memory, made with tar-stream's pack. */
export async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = type === 'file' ? Buffer.from(e.content ?? '') : undefined;
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: e.name,
        type,
        mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        mtime: e.mtime ?? new Date('2024-01-02T03:04:05Z'),
        linkname: e.linkname,
        devmajor: e.devmajor,
        devminor: e.devminor,
        ...(e.pax ? { pax: e.pax } : {}),
        ...(body ? { size: body.length } : {}),
      };
      p.entry(header, body ?? '', (err) => (err ? reject(err) : resolve()));
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

function pad(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
}

/** A ustar header block of `type` for `size` bytes of data. */
export function rawHeader(type: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write('PaxHeaders/entry', 0, 'latin1');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('00000000000\0', 136, 'latin1');
  h.write(type, 156, 'latin1');
  h.write('ustar\x0000', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** A header block and its data, padded to 512 bytes. */
export function rawEntry(type: string, data: Buffer): Buffer {
  return Buffer.concat([rawHeader(type, data.length), pad(data)]);
}

/** A PAX extended header (`x`) or global header (`g`) with its records, values raw bytes
 * (tar-stream's pack writes PAX values as text only). */
export function paxBlock(type: 'x' | 'g', records: [string, Buffer][]): Buffer {
  const data = Buffer.concat(
    records.map(([key, value]) => {
      const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
      let len = body.length + 1;
      while (String(len).length + body.length !== len) len++;
      return Buffer.concat([Buffer.from(String(len)), body]);
    }),
  );
  return rawEntry(type, data);
}

/** An archive of entries and, between them, raw blocks (such as a PAX header for the entry
 * after it). */
export async function makeRawTar(parts: (TarEntry | Buffer)[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for (const part of parts) {
    if (Buffer.isBuffer(part)) out.push(part);
    else out.push((await makeTar([part])).subarray(0, -1024)); /* without the end-of-archive blocks */
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}
