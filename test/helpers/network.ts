import { type Server, createServer } from 'node:net';
import type { TestEngine } from './engine.js';

/** busybox httpd serving a page the container writes first */
export const HTTPD = ['sh', '-c', 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www'];

export const inspect = (e: TestEngine, id: string) => JSON.parse(e.ok(['inspect', id]).stdout)[0];

/** GET with a few tries: httpd binds its port a moment after the start. Only for
 * addresses of this host and of the tests' own containers. */
export async function get(url: string): Promise<string> {
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      return await r.text();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw last;
}

/** A host process holding a port, to see it refused. */
export function listen(port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host }, () => resolve(server));
  });
}
