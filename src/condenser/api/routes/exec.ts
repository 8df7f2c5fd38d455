import { DEFAULT_DETACH_KEYS, DetachKeyFilter, parseDetachKeys } from '../../../lib/detach-keys.js';
import { type ExecConfig, createSession, findSession, resizeSession, startSession } from '../exec-sessions.js';
import { hijack } from '../hijack.js';
import { ApiError, readJson, sendJson, sendNoContent } from '../http-io.js';
import { type ApiRequest, queryInt } from '../request.js';
import type { Router } from '../router.js';
import { frame } from '../stream-frames.js';

/** docker exec: create, start (hijacked, or detached), inspect, resize. */
export function execRoutes(router: Router): void {
  router.post('/containers/{id}/exec', createExec);
  router.post('/exec/{id}/start', startExec);
  router.get('/exec/{id}/json', inspectExec);
  router.post('/exec/{id}/resize', (r) => {
    const session = findSession(r.engine, r.params.id ?? '');
    const h = queryInt(r, 'h') ?? 0;
    const w = queryInt(r, 'w') ?? 0;
    if (h < 0 || w < 0) throw new ApiError(400, `resize: h and w must not be negative (h=${h}, w=${w})`);
    resizeSession(session, h, w);
    sendNoContent(r.res, 200);
  });
}

const bool = (body: Record<string, unknown>, key: string): boolean => {
  const v = body[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new ApiError(400, `exec: ${key} must be a boolean`);
  return v;
};

const text = (body: Record<string, unknown>, key: string): string => {
  const v = body[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new ApiError(400, `exec: ${key} must be a string`);
  return v;
};

const strings = (body: Record<string, unknown>, key: string): string[] => {
  const v = body[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new ApiError(400, `exec: ${key} must be a list of strings`);
  return v as string[];
};

function consoleSize(body: Record<string, unknown>): [number, number] | undefined {
  const v = body.ConsoleSize;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length !== 2 || v.some((n) => !Number.isInteger(n) || (n as number) < 0))
    throw new ApiError(400, 'exec: ConsoleSize must be [height, width]');
  return [v[0] as number, v[1] as number];
}

async function createExec(r: ApiRequest): Promise<void> {
  const body = await readJson<Record<string, unknown>>(r.req);
  const record = r.engine.containers.inspect(r.params.id ?? '');
  r.target = record.Id;
  const config: ExecConfig = {
    AttachStdin: bool(body, 'AttachStdin'),
    AttachStdout: bool(body, 'AttachStdout'),
    AttachStderr: bool(body, 'AttachStderr'),
    Tty: bool(body, 'Tty'),
    Env: strings(body, 'Env'),
    Cmd: strings(body, 'Cmd'),
    WorkingDir: text(body, 'WorkingDir'),
    User: text(body, 'User'),
    Privileged: bool(body, 'Privileged'),
    DetachKeys: text(body, 'DetachKeys'),
  };
  const size = consoleSize(body);
  if (size) config.ConsoleSize = size;
  if (config.Cmd.length === 0) throw new ApiError(400, 'No exec command specified');
  for (const e of config.Env) if (!e.includes('=')) throw new ApiError(400, `exec: Env entry "${e}" is not KEY=VALUE`);
  if (config.DetachKeys) detachKeys(config.DetachKeys);
  if (record.State.Status === 'paused') throw new ApiError(409, `Container ${record.Id} is paused, unpause the container before exec`);
  if (record.State.Status !== 'running') throw new ApiError(409, `Container ${record.Id} is not running`);
  const session = createSession(r.engine, record.Id, config);
  sendJson(r.res, 201, { Id: session.id });
}

function detachKeys(text: string): Buffer {
  try {
    return parseDetachKeys(text, 'DetachKeys');
  } catch (e) {
    throw new ApiError(400, (e as Error).message);
  }
}

/** start: body {Detach, Tty, ConsoleSize}. Attached, the stream ends once the command has
 * exited and its output is sent, so the client's inspect that follows reads the exit code.
 * A client that leaves early leaves the command running. */
async function startExec(r: ApiRequest): Promise<void> {
  const body = await readJson<Record<string, unknown>>(r.req);
  const session = findSession(r.engine, r.params.id ?? '');
  r.target = session.id;
  if (session.started) throw new ApiError(409, `Exec ${session.id} has already been started`);
  const detach = bool(body, 'Detach');
  const size = consoleSize(body) ?? session.config.ConsoleSize;
  const c = session.config;
  const tty = c.Tty;
  /* output before the client has its answer (none: the answer is written at once) */
  let send: (stream: 1 | 2, data: Buffer) => void = () => {};
  const proc = startSession(r.engine, session, (stream, data) => send(stream, data));
  if (size) resizeSession(session, size[0], size[1]);
  if (detach) {
    proc.endInput();
    return sendNoContent(r.res, 200);
  }
  const out = hijack(r, tty);
  send = (stream, data) => {
    if (stream === 1 ? c.AttachStdout : c.AttachStderr) out.write(tty ? data : frame(stream, data));
  };
  if (c.AttachStdin) {
    const filter = new DetachKeyFilter(detachKeys(c.DetachKeys || DEFAULT_DETACH_KEYS));
    out.readInput(
      (chunk) => {
        const { pass, detach: detached } = filter.feed(chunk);
        if (pass.length > 0) proc.input(pass);
        if (detached) out.end();
      },
      () => proc.endInput(),
    );
  }
  await proc.done;
  out.end();
}

function inspectExec(r: ApiRequest): void {
  const s = findSession(r.engine, r.params.id ?? '');
  const c = s.config;
  sendJson(r.res, 200, {
    ID: s.id,
    Running: s.running,
    ExitCode: s.exitCode,
    ProcessConfig: {
      tty: c.Tty,
      entrypoint: c.Cmd[0] ?? '',
      arguments: c.Cmd.slice(1),
      privileged: c.Privileged,
      user: c.User,
    },
    OpenStdin: c.AttachStdin,
    OpenStderr: c.AttachStderr,
    OpenStdout: c.AttachStdout,
    CanRemove: false,
    ContainerID: s.containerId,
    DetachKeys: c.DetachKeys,
    Pid: s.pid,
  });
}
