import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { dirname } from 'node:path';
import { UserError } from '../../lib/errors.js';
import type { ApiDispatcher } from './server.js';
import type { Peer } from './request.js';

export type ListenAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** docker's mutual TLS: the server's key pair, and the CA a client's certificate must chain to. */
export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

export const DEFAULT_SOCKET = '/run/raind/raind.sock';

/** `unix:///path`, `tcp://ADDR:PORT` (docker's -H). */
export function parseListenAddress(text: string): ListenAddress {
  if (text.startsWith('unix://')) {
    const path = text.slice(7);
    if (!path.startsWith('/'))
      throw new UserError(`--host ${text}: a unix socket needs an absolute path`, { kind: 'invalid', field: '--host' });
    return { kind: 'unix', path };
  }
  const m = /^tcp:\/\/(\[[0-9a-fA-F:]+\]|[^:/]+):(\d+)$/.exec(text);
  if (m) {
    const port = Number(m[2]);
    if (port < 1 || port > 65535) throw new UserError(`--host ${text}: port must be 1-65535`, { kind: 'invalid', field: '--host' });
    return { kind: 'tcp', host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port };
  }
  throw new UserError(`--host ${text}: expected unix:///PATH or tcp://ADDR:PORT`, { kind: 'invalid', field: '--host' });
}

/** Listens on the address: a unix socket is 0660, of group `raind` when that group exists;
 * TCP only with mutual TLS. */
export async function listen(address: ListenAddress, dispatcher: ApiDispatcher, tls?: TlsFiles): Promise<Server> {
  if (address.kind === 'unix') return listenUnix(address.path, dispatcher);
  if (!tls)
    throw new UserError(
      `--host tcp://${address.host}:${address.port}: TCP is served only with mutual TLS (--tlsverify --tlscacert --tlscert --tlskey)`,
      { kind: 'invalid', field: '--host' },
    );
  const server = createTlsServer({
    ca: readTlsFile(tls.ca, '--tlscacert'),
    cert: readTlsFile(tls.cert, '--tlscert'),
    key: readTlsFile(tls.key, '--tlskey'),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  });
  const peerOf = (req: IncomingMessage): Peer => {
    const socket = req.socket as TLSSocket;
    const subject = socket.getPeerCertificate?.()?.subject;
    return {
      transport: 'tcp',
      address: socket.remoteAddress ?? '',
      ...(subject
        ? {
            subject: Object.entries(subject)
              .map(([k, v]) => `${k}=${v}`)
              .join(','),
          }
        : {}),
    };
  };
  wire(server, dispatcher, peerOf);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => resolve());
  });
  return server;
}

function readTlsFile(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UserError(`${flag} ${path}: ${(e as Error).message}`, { kind: 'invalid', field: flag });
  }
}

function wire(server: Server, dispatcher: ApiDispatcher, peerOf: (req: IncomingMessage) => Peer): void {
  /* attach, logs -f, events and wait stay open as long as the client wants */
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 60_000;
  server.timeout = 0;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => dispatcher.onRequest(req, res, peerOf(req)));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => dispatcher.onUpgrade(req, socket, head, peerOf(req)));
  server.on('clientError', (_err, socket: Duplex) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
}

async function listenUnix(path: string, dispatcher: ApiDispatcher): Promise<Server> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  await removeStaleSocket(path);
  const server = createServer();
  wire(server, dispatcher, () => ({ transport: 'unix' }));
  /* made 0660 from the start: no moment where anyone may connect */
  const umask = process.umask(0o117);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(umask);
  }
  chmodSync(path, 0o660);
  const gid = groupId('raind');
  if (gid !== undefined) chownSync(path, 0, gid);
  return server;
}

/** A socket file nobody answers on is left by a server that was killed; one that answers
 * is another server's. */
async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket()) throw new UserError(`${path} exists and is not a socket`, { kind: 'conflict' });
  const answered = await new Promise<boolean>((resolve) => {
    const c = connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (answered) throw new UserError(`${path}: another server is listening on it`, { kind: 'conflict' });
  rmSync(path, { force: true });
}

function groupId(name: string): number | undefined {
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const [group, , gid] = line.split(':');
      if (group === name && gid !== undefined) return Number(gid);
    }
  } catch {}
  return undefined;
}
