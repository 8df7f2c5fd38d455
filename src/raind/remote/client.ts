import { readFileSync } from 'node:fs';
import { type ClientRequest, type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { UsageError, UserError } from '../../lib/errors.js';
import { type ListenAddress, parseListenAddress } from '../../condenser/api/index.js';

/** The API version this client speaks: the one raind serve serves. */
const API_PATH = '/v1.43';

export interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** Where a served engine is: `unix:///path`, or `tcp://ADDR:PORT` with mutual TLS from the
 * directory docker's CLI reads (DOCKER_CERT_PATH: ca.pem, cert.pem, key.pem). */
type Target = { socketPath: string } | { host: string; port: number; ca: Buffer; cert: Buffer; key: Buffer };

function targetOf(host: string): Target {
  let address: ListenAddress;
  try {
    address = parseListenAddress(host);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (address.kind === 'unix') return { socketPath: address.path };
  if (address.kind !== 'tcp') throw new UsageError(`--host ${host}: expected unix:///PATH or tcp://ADDR:PORT`);
  const dir = process.env.DOCKER_CERT_PATH;
  if (!dir)
    throw new UsageError(`--host ${host}: TCP needs mutual TLS: set DOCKER_CERT_PATH to a directory with ca.pem, cert.pem and key.pem`);
  const read = (name: string) => {
    try {
      return readFileSync(join(dir, name));
    } catch (e) {
      throw new UsageError(`DOCKER_CERT_PATH: ${join(dir, name)}: ${(e as Error).message}`);
    }
  };
  return { host: address.host, port: address.port, ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
}

/** A client of `raind serve` (the Docker Engine API). */
export class ApiClient {
  private readonly target: Target;

  constructor(readonly host: string) {
    this.target = targetOf(host);
  }

  /** The answer's head, its body left to read: streams (pull progress, logs). */
  open(method: string, path: string, body?: unknown): Promise<IncomingMessage> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    /* a unix socket has no host name; over TLS the address is the name the certificate must carry */
    const headers: Record<string, string | number> = 'socketPath' in this.target ? { Host: 'raind' } : {};
    if (payload) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': payload.length });
    else if (method !== 'GET' && method !== 'HEAD') headers['Content-Length'] = 0;
    return new Promise((resolve, reject) => {
      const req = this.request(method, path, headers);
      req.on('response', resolve);
      req.on('error', (e) =>
        reject(new UserError(`cannot reach the engine at ${this.host}: ${e.message}`, { kind: 'host', exitCode: 125 })),
      );
      req.end(payload);
    });
  }

  /** A request that takes the connection over (attach): the raw socket once the server
   * answered 101, or the server's error. */
  upgrade(method: string, path: string): Promise<Duplex> {
    const headers: Record<string, string | number> = { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Length': 0 };
    if ('socketPath' in this.target) headers.Host = 'raind';
    return new Promise((resolve, reject) => {
      const req = this.request(method, path, headers);
      req.on('upgrade', (_res, socket, head) => {
        if (head.length) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', async (res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of res) chunks.push(chunk as Buffer);
        reject(failure({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      });
      req.on('error', (e) =>
        reject(new UserError(`cannot reach the engine at ${this.host}: ${e.message}`, { kind: 'host', exitCode: 125 })),
      );
      req.end();
    });
  }

  /** The request, over the unix socket or mutual TLS. */
  private request(method: string, path: string, headers: Record<string, string | number>): ClientRequest {
    const options = { method, path: `${API_PATH}${path}`, headers, agent: false as const };
    if ('socketPath' in this.target) return httpRequest({ ...options, socketPath: this.target.socketPath });
    const { host, port, ca, cert, key } = this.target;
    return httpsRequest({ ...options, host, port, ca, cert, key });
  }

  /** A whole answer; a failure status is thrown as the server's message. */
  async call(method: string, path: string, body?: unknown): Promise<Reply> {
    const res = await this.open(method, path, body);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const reply = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
    if (reply.status >= 400) throw failure(reply);
    return reply;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const reply = await this.call(method, path, body);
    return JSON.parse(reply.body.toString('utf8')) as T;
  }
}

/** docker's error body `{"message": …}` as an error of the kind its status says. */
export function failure(reply: { status: number; body: Buffer }): UserError {
  let message = reply.body.toString('utf8').trim();
  try {
    message = (JSON.parse(message) as { message?: string }).message ?? message;
  } catch {}
  const kind = reply.status === 404 ? 'not-found' : reply.status === 409 ? 'conflict' : reply.status === 400 ? 'invalid' : 'host';
  return new UserError(message || `the engine answered ${reply.status}`, { kind });
}
