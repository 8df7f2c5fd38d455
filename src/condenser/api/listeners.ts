import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type Server as NetServer, type Socket, connect, createServer as createNetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { type TLSSocket, createServer as createTlsServer } from 'node:tls';
import { dirname } from 'node:path';
import { UserError } from '../../lib/errors.js';
import { native } from '../../lib/native.js';
import type { ApiDispatcher } from './server.js';
import type { Peer } from './request.js';
import { activatedFds } from './socket-activation.js';

export type ListenAddress =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number }
  /** sockets passed by a service manager (systemd): all of them, or the one numbered */
  | { kind: 'fd'; fd?: number };

/** docker's mutual TLS: the server's key pair, and the CA a client's certificate must chain to. */
export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

export const DEFAULT_SOCKET = '/run/raind/raind.sock';

/** `unix:///path`, `tcp://ADDR:PORT`, `fd://` or `fd://N` (docker's -H). */
export function parseListenAddress(text: string): ListenAddress {
  if (text.startsWith('unix://')) {
    const path = text.slice(7);
    if (!path.startsWith('/'))
      throw new UserError(`--host ${text}: a unix socket needs an absolute path`, { kind: 'invalid', field: '--host' });
    return { kind: 'unix', path };
  }
  if (text === 'fd://') return { kind: 'fd' };
  const fd = /^fd:\/\/(\d+)$/.exec(text);
  if (fd) return { kind: 'fd', fd: Number(fd[1]) };
  const m = /^tcp:\/\/(\[[0-9a-fA-F:]+\]|[^:/]+):(\d+)$/.exec(text);
  if (m) {
    const port = Number(m[2]);
    if (port < 1 || port > 65535) throw new UserError(`--host ${text}: port must be 1-65535`, { kind: 'invalid', field: '--host' });
    return { kind: 'tcp', host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port };
  }
  throw new UserError(`--host ${text}: expected unix:///PATH, tcp://ADDR:PORT or fd://`, { kind: 'invalid', field: '--host' });
}

export function describeAddress(address: ListenAddress): string {
  if (address.kind === 'unix') return `unix://${address.path}`;
  if (address.kind === 'tcp') return `tcp://${address.host}:${address.port}`;
  return address.fd === undefined ? 'fd://' : `fd://${address.fd}`;
}

/** Refuses, before anything listens, TCP without mutual TLS. */
export function checkAddress(address: ListenAddress, tls: TlsFiles | undefined): void {
  if (address.kind === 'tcp' && !tls)
    throw new UserError(
      `--host ${describeAddress(address)}: TCP is served only with mutual TLS (--tlsverify --tlscacert --tlscert --tlskey)`,
      { kind: 'invalid', field: '--host' },
    );
}

/** Where the HTTP server learns who a connection is from: set when the listener accepts it. */
const PEER = Symbol('raind.peer');
type WithPeer = { [PEER]?: Peer };

/** Listens on the address: a unix socket is 0660, of group `raind` when that group exists;
 * TCP only with mutual TLS; fd:// takes the sockets systemd passed. Each listener accepts
 * the connection itself, notes who it is (SO_PEERCRED, the client certificate) and hands it
 * to one HTTP server: Bun's HTTP server shows neither the socket's fd nor the certificate. */
export async function listen(address: ListenAddress, dispatcher: ApiDispatcher, tls?: TlsFiles): Promise<NetServer[]> {
  checkAddress(address, tls);
  const http = httpServer(dispatcher);
  if (address.kind === 'unix') return [await listenUnix(address.path, http)];
  if (address.kind === 'fd') {
    const fds = activatedFds();
    const chosen = address.fd === undefined ? fds : fds.filter((fd) => fd === address.fd);
    if (chosen.length === 0)
      throw new UserError(
        fds.length === 0
          ? `--host ${describeAddress(address)}: no sockets were passed (LISTEN_FDS, LISTEN_PID: start it from raind.socket)`
          : `--host ${describeAddress(address)}: not one of the passed sockets ${fds.join(', ')}`,
        { kind: 'invalid', field: '--host' },
      );
    return Promise.all(chosen.map((fd) => listenFd(fd, http)));
  }
  /* checkAddress: tls is set */
  const files = tls as TlsFiles;
  const server = createTlsServer(
    {
      ca: readTlsFile(files.ca, '--tlscacert'),
      cert: readTlsFile(files.cert, '--tlscert'),
      key: readTlsFile(files.key, '--tlskey'),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      allowHalfOpen: true,
    },
    (socket: TLSSocket) => hand(http, socket, tlsPeer(socket)),
  );
  server.on('tlsClientError', () => {});
  await listening(server, (s) => s.listen(address.port, address.host));
  return [server];
}

function tlsPeer(socket: TLSSocket): Peer {
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
}

/** The uid, gid and pid of the process that connected, from the kernel; the fd is the
 * socket's own (Node and Bun both keep it on the handle). */
function unixPeer(socket: Socket): Peer {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return { transport: 'unix' };
  try {
    const [pid, uid, gid] = native().peerCred(fd);
    return { transport: 'unix', uid, gid, pid };
  } catch {
    return { transport: 'unix' };
  }
}

function hand(http: Server, socket: Socket, peer: Peer): void {
  (socket as WithPeer)[PEER] = peer;
  socket.on('error', () => socket.destroy());
  http.emit('connection', socket);
}

function readTlsFile(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UserError(`${flag} ${path}: ${(e as Error).message}`, { kind: 'invalid', field: flag });
  }
}

function httpServer(dispatcher: ApiDispatcher): Server {
  const server = createServer();
  const peerOf = (req: IncomingMessage): Peer => (req.socket as WithPeer)[PEER] ?? { transport: 'unix' };
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
  return server;
}

function listening(server: NetServer, start: (s: NetServer) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    start(server);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function unixListener(http: Server): NetServer {
  /* half-open: attach's client closes its stdin and still reads the output */
  return createNetServer({ allowHalfOpen: true }, (socket) => hand(http, socket, unixPeer(socket)));
}

/** A socket systemd bound (raind.socket: its mode and group are systemd's). */
async function listenFd(fd: number, http: Server): Promise<NetServer> {
  native().setCloexec(fd);
  const server = unixListener(http);
  await listening(server, (s) => s.listen({ fd }));
  return server;
}

async function listenUnix(path: string, http: Server): Promise<NetServer> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  await removeStaleSocket(path);
  const server = unixListener(http);
  /* made 0660 from the start: no moment where anyone may connect */
  const umask = process.umask(0o117);
  try {
    await listening(server, (s) => s.listen(path));
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
