import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http';

export interface Seen {
  method: string;
  path: string;
  range?: string;
}

export interface ForwardOptions {
  /** after this many body bytes, break the connection */
  cutAfter?: number;
  /** after this many body bytes, send nothing more (the connection stays open) */
  stallAfter?: number;
  /** called once when cutAfter or stallAfter is reached */
  onLimit?: () => void;
}

/** An HTTP proxy on 127.0.0.1 in front of a registry, whose `handle` may answer a request
 * itself or forward it with a fault: a transfer cut or stalled part-way. */
export class FaultyProxy {
  private server?: Server;
  private readonly stalled = new Set<ServerResponse>();
  port = 0;
  readonly seen: Seen[] = [];
  /** answers a request itself (true), or leaves it to be forwarded as it is */
  handle?: (req: IncomingMessage, res: ServerResponse, forward: (opts: ForwardOptions) => void) => boolean;
  private inFlight = 0;
  /** the most blob GETs in flight at once */
  maxInFlight = 0;

  constructor(private readonly upstream: string) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.seen.push({ method: req.method ?? '', path: req.url ?? '', ...(req.headers.range ? { range: req.headers.range } : {}) });
      /* a blob GET is in flight from its arrival (a handler may delay it) to its answer's end */
      if (/\/blobs\/sha256:/.test(req.url ?? '')) {
        this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
        res.on('close', () => this.inFlight--);
      }
      const forward = (opts: ForwardOptions) => this.forward(req, res, opts);
      if (this.handle?.(req, res, forward)) return;
      forward({});
    });
    return new Promise((resolve) =>
      this.server?.listen(0, '127.0.0.1', () => {
        const address = this.server?.address();
        this.port = typeof address === 'object' && address ? address.port : 0;
        resolve();
      }),
    );
  }

  async stop(): Promise<void> {
    for (const r of this.stalled) r.destroy();
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  /** blob GETs seen for a digest */
  blobGets(digest: string): Seen[] {
    return this.seen.filter((s) => s.method === 'GET' && s.path.endsWith(`/blobs/${digest}`));
  }

  private forward(req: IncomingMessage, res: ServerResponse, opts: ForwardOptions): void {
    const up = request(
      { host: '127.0.0.1', port: Number(this.upstream.split(':')[1]), method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        const limit = opts.cutAfter ?? opts.stallAfter;
        let sent = 0;
        upRes.on('data', (chunk: Buffer) => {
          if (limit === undefined) return void res.write(chunk);
          if (sent >= limit) return;
          const part = chunk.subarray(0, limit - sent);
          sent += part.length;
          res.write(part);
          if (sent < limit) return;
          opts.onLimit?.();
          upRes.destroy();
          if (opts.cutAfter !== undefined) setTimeout(() => res.socket?.destroy(), 50);
          else this.stalled.add(res);
        });
        upRes.on('end', () => {
          if (sent < (limit ?? Number.POSITIVE_INFINITY)) res.end();
        });
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  }
}
