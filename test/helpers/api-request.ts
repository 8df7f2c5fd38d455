import { request } from 'node:http';

export interface ApiAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** the body as JSON (undefined when it is none) */
  json(): any;
}

/** One request to a Docker Engine API on a unix socket, for what the docker CLI does not
 * let a test send (malformed bodies, HEAD, raw shapes). */
export function apiRequest(socket: string, method: string, path: string, body?: string | Buffer): Promise<ApiAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: socket,
        method,
        path,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const data = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: data,
            json: () => (data.length ? JSON.parse(data.toString('utf8')) : undefined),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: no answer in 60 s`)));
    req.end(body);
  });
}
