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
