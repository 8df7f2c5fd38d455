import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { MAX_JSON_BODY } from './http-io.js';

/** Node's HTTP server (and Bun's, for a connection handed to it) gives an Upgrade request's
 * body to nobody: it is the start of `head`, the bytes after the headers. exec start sends
 * its JSON there. The declared body is moved back into the request, where readJson finds it,
 * and what follows it is the stream's first input: the new head. */
export async function takeUpgradeBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<Buffer> {
  const length = Number(req.headers['content-length'] ?? 0);
  /* none, or one readJson refuses by its length alone */
  if (!Number.isInteger(length) || length <= 0 || length > MAX_JSON_BODY) return head;
  let body = head.subarray(0, length);
  const rest = head.subarray(length);
  if (body.length < length) body = Buffer.concat([body, (await readExactly(socket, length - body.length)) ?? Buffer.alloc(0)]);
  req.unshift(body);
  return rest;
}

/** n bytes of the socket, or what there was when it ended; the socket is left paused, as
 * it was, for the stream's reader. */
function readExactly(socket: Duplex, n: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const finish = (chunk?: Buffer) => {
      socket.off('readable', tryRead);
      socket.off('end', onEnd);
      resolve(chunk);
    };
    const tryRead = () => {
      const chunk = socket.read(n) as Buffer | null;
      if (chunk !== null) finish(chunk);
    };
    const onEnd = () => finish((socket.read() as Buffer | null) ?? undefined);
    socket.on('readable', tryRead);
    socket.once('end', onEnd);
    tryRead();
  });
}
