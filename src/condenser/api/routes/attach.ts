import { DEFAULT_DETACH_KEYS, DetachKeyFilter, parseDetachKeys } from '../../../lib/detach-keys.js';
import { UserError } from '../../../lib/errors.js';
import type { ContainerRecord } from '../../containers/record.js';
import { LogReader } from '../../logs/k8s-file.js';
import type { AttachSocket, OutputStream } from '../../monitor/attach-socket.js';
import { hijack } from '../hijack.js';
import { waitForStart } from '../start-waiters.js';
import { ApiError, sendNoContent } from '../http-io.js';
import { type ApiRequest, queryBool, queryInt } from '../request.js';
import type { Router } from '../router.js';
import { frame } from '../stream-frames.js';

/** attach (docker run in the foreground, docker attach, start -a) and the terminal's size. */
export function attachRoutes(router: Router): void {
  router.post('/containers/{id}/attach', attachContainer);
  router.post('/containers/{id}/resize', resizeContainer);
}

/** The streams a client asked for. */
interface Wanted {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** attach?stream=1&stdin=&stdout=&stderr=&logs=&detachKeys=: the container's output through
 * conmon's attach socket, framed without a terminal and raw with one, and the client's input
 * to its stdin; a stopped container is attached once it starts. The connection closes when
 * the container exits (its output sent first), when the detach keys are typed, or when the
 * client leaves; the container goes on in the last two. */
async function attachContainer(r: ApiRequest): Promise<void> {
  const containers = r.engine.containers;
  const record = containers.inspect(r.params.id ?? '');
  r.target = record.Id;
  const want: Wanted = { stdin: queryBool(r, 'stdin'), stdout: queryBool(r, 'stdout'), stderr: queryBool(r, 'stderr') };
  let keys: Buffer;
  try {
    keys = parseDetachKeys(r.query.get('detachKeys') ?? DEFAULT_DETACH_KEYS, 'query parameter detachKeys');
  } catch (e) {
    throw new ApiError(400, (e as Error).message);
  }
  const tty = record.Config.Tty;
  const stream = queryBool(r, 'stream');
  const logs = queryBool(r, 'logs');
  if (!stream && !logs) throw new ApiError(400, 'attach: query parameter stream or logs must be set');
  if (record.State.Status === 'paused') throw new ApiError(409, `You cannot attach to a paused container, unpause it first`);
  const encode = (s: OutputStream, data: Buffer): Buffer | undefined => {
    if (!want[s]) return undefined;
    return tty ? Buffer.from(data) : frame(s === 'stdout' ? 1 : 2, data);
  };
  /* output that comes before the client has its answer waits for it */
  let pending: Buffer[] | undefined = [];
  let send: (data: Buffer) => void = (data) => pending?.push(data);
  const connect = () =>
    containers.attach(
      record.Id,
      (s, data) => {
        const b = encode(s, data);
        if (b) send(b);
      },
      /* many attaches at once: none may hold a thread of the pool */
      true,
    );
  let socket: AttachSocket | undefined;
  let stopWaiting = () => {};
  let started: Promise<AttachSocket | undefined> | undefined;
  if (stream) {
    try {
      socket = connect();
    } catch (e) {
      /* docker's attach to a stopped container waits for its start (start -a, compose) */
      if (record.State.Status !== 'exited' && record.State.Status !== 'created') throw notAttachable(record, e);
      started = new Promise((resolve) => {
        stopWaiting = waitForStart(r.engine, record.Id, () => {
          try {
            resolve(connect());
          } catch {
            resolve(undefined);
          }
        });
      });
    }
  }
  const out = hijack(r, tty);
  if (logs)
    replayLog(r, record, (s, data) => {
      const b = encode(s, data);
      if (b) out.write(b);
    });
  for (const b of pending) out.write(b);
  pending = undefined;
  send = (data) => out.write(data);
  if (started) {
    void out.closed.then(() => stopWaiting());
    socket = await Promise.race([started, out.closed.then(() => undefined)]);
  }
  if (!socket) return out.end();
  const attached = socket;
  if (want.stdin && record.Config.OpenStdin) {
    const filter = new DetachKeyFilter(keys);
    out.readInput(
      (chunk) => {
        const { pass, detach } = filter.feed(chunk);
        if (pass.length > 0) void attached.send(pass);
        if (detach) attached.close();
      },
      /* the client closed its side: the container's stdin ends (conmon keeps it open when the
       * container asked to) and output still comes; on a terminal that is the client's ^D */
      () => {
        if (!tty) void attached.endInput();
      },
    );
  }
  void out.closed.then(() => attached.close());
  await attached.ended;
  out.end();
}

/** The container's log so far (attach?logs=1), before its live output. */
function replayLog(r: ApiRequest, record: ContainerRecord, write: (s: OutputStream, data: Buffer) => void): void {
  const reader = LogReader.open(r.engine.containers.logPath(record.Id));
  if (!reader) return;
  try {
    for (const e of reader.read()) write(e.stream, Buffer.from(e.text));
  } finally {
    reader.close();
  }
}

/** Why there is no attach socket: docker's 409 for a container that does not run. */
function notAttachable(record: ContainerRecord, cause: unknown): Error {
  const status = record.State.Status;
  if (status !== 'running' && status !== 'created')
    return new ApiError(409, `You cannot attach to a stopped container, start it first (${record.Name.replace(/^\//, '')} is ${status})`);
  return cause instanceof UserError ? cause : new ApiError(500, `attach: ${(cause as Error).message}`);
}

/** resize?h=&w=: the container's terminal (docker answers 200 with no body). */
function resizeContainer(r: ApiRequest): void {
  const record = r.engine.containers.inspect(r.params.id ?? '');
  const h = queryInt(r, 'h') ?? 0;
  const w = queryInt(r, 'w') ?? 0;
  if (h < 0 || w < 0) throw new ApiError(400, `resize: h and w must not be negative (h=${h}, w=${w})`);
  const status = record.State.Status;
  if (status !== 'running' && status !== 'created' && status !== 'paused') throw new ApiError(409, `Container ${record.Id} is not running`);
  if (record.Config.Tty && !r.engine.containers.resizeTerminal(record.Id, h, w))
    throw new ApiError(409, `Container ${record.Id} is not running`);
  sendNoContent(r.res, 200);
}
