import { writeSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { UsageError, UserError } from '../../lib/errors.js';
import { CREATE_OPTIONS, createRequest, parseOptions, splitAtPositional } from '../container-flags.js';
import { err, humanSize, out, table, timeAgo } from '../output.js';
import { type ApiClient, failure } from './client.js';
import { FrameReader } from './frames.js';

type RemoteCommand = (api: ApiClient, argv: string[]) => Promise<number>;

interface Summary {
  Id: string;
  Names: string[];
  Image: string;
  Command: string;
  Created: number;
  Status: string;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
}

interface ImageSummary {
  Id: string;
  RepoTags: string[] | null;
  Created: number;
  Size: number;
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const q = encodeURIComponent;

async function version(api: ApiClient, argv: string[]): Promise<number> {
  if (argv.length) throw new UsageError(`version: unexpected argument "${argv[0]}"`);
  const v = await api.json<{ Version: string; ApiVersion: string; MinAPIVersion: string; Os: string; Arch: string; KernelVersion: string }>(
    'GET',
    '/version',
  );
  out(
    `Server: ${api.host}\n Engine:\n  Version:          ${v.Version}\n  API version:      ${v.ApiVersion} (minimum version ${v.MinAPIVersion})\n  OS/Arch:          ${v.Os}/${v.Arch}\n  Kernel Version:   ${v.KernelVersion}\n`,
  );
  return 0;
}

async function ps(api: ApiClient, argv: string[]): Promise<number> {
  const options = {
    all: { type: 'boolean', short: 'a' },
    quiet: { type: 'boolean', short: 'q' },
    'no-trunc': { type: 'boolean' },
  } as const;
  const split = splitAtPositional(argv, options);
  if (split.rest.length) throw new UsageError(`ps: unexpected argument "${split.rest[0]}"`);
  const values = parseOptions('ps', split.options, options);
  const list = await api.json<Summary[]>('GET', `/containers/json${values.all ? '?all=1' : ''}`);
  if (values.quiet) {
    out(list.map((c) => `${c.Id}\n`).join(''));
    return 0;
  }
  const trunc = values['no-trunc'] !== true;
  out(
    table(
      ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
      list.map((c) => [
        c.Id,
        c.Image,
        `"${trunc && c.Command.length > 20 ? `${c.Command.slice(0, 19)}…` : c.Command}"`,
        timeAgo(iso(c.Created)),
        c.Status,
        c.Ports.filter((p) => p.PublicPort !== undefined)
          .map((p) => `${p.IP}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`)
          .join(', '),
        (c.Names[0] ?? '').replace(/^\//, ''),
      ]),
    ),
  );
  return 0;
}

async function images(api: ApiClient, argv: string[]): Promise<number> {
  const options = { quiet: { type: 'boolean', short: 'q' }, all: { type: 'boolean', short: 'a' } } as const;
  const split = splitAtPositional(argv, options);
  if (split.rest.length) throw new UsageError(`images: unexpected argument "${split.rest[0]}"`);
  const values = parseOptions('images', split.options, options);
  const list = await api.json<ImageSummary[]>('GET', '/images/json');
  const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
  if (values.quiet) {
    out([...new Set(list.map((i) => short(i.Id)))].map((id) => `${id}\n`).join(''));
    return 0;
  }
  const rows = list.flatMap((i) =>
    (i.RepoTags?.length ? i.RepoTags : ['<none>:<none>']).map((tag) => {
      const colon = tag.lastIndexOf(':');
      return [tag.slice(0, colon), tag.slice(colon + 1), short(i.Id), timeAgo(iso(i.Created)), humanSize(i.Size)];
    }),
  );
  out(table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows));
  return 0;
}

/** A container's JSON, else an image's, as docker's top-level inspect. */
async function inspect(api: ApiClient, argv: string[]): Promise<number> {
  const names = argv.filter((a) => !a.startsWith('-'));
  if (names.length === 0) throw new UsageError('inspect: expected at least one container or image');
  const found: unknown[] = [];
  let failed = false;
  for (const name of names) {
    try {
      found.push(await api.json('GET', `/containers/${q(name)}/json`));
    } catch (e) {
      if (!(e instanceof UserError) || e.kind !== 'not-found') throw e;
      try {
        found.push(await api.json('GET', `/images/${name.split('/').map(q).join('/')}/json`));
      } catch (e2) {
        if (!(e2 instanceof UserError) || e2.kind !== 'not-found') throw e2;
        err(`raind inspect: no such container or image: ${name}\n`);
        failed = true;
      }
    }
  }
  out(`${JSON.stringify(found, null, 4)}\n`);
  return failed ? 1 : 0;
}

const RUN_OPTIONS = { ...CREATE_OPTIONS, detach: { type: 'boolean', short: 'd' } } as const;

/** create and run -d: the same flags as on the engine's host, sent as docker's create body. */
async function createFromArgs(
  api: ApiClient,
  cmd: 'create' | 'run',
  argv: string[],
): Promise<{ id: string; detach: boolean; rm: boolean }> {
  const options = cmd === 'run' ? RUN_OPTIONS : CREATE_OPTIONS;
  const split = splitAtPositional(argv, options);
  const values = parseOptions(cmd, split.options, options);
  const [image, ...command] = split.rest;
  if (image === undefined) throw new UsageError(`${cmd}: expected an image`);
  if (values.interactive || values.tty) throw new UsageError(`${cmd}: -i and -t are not available with --host`);
  const pull = (values.pull as string | undefined) ?? 'missing';
  if (pull !== 'missing' && pull !== 'never') throw new UsageError(`${cmd}: --pull must be missing or never, not "${pull}"`);
  const request = createRequest(cmd, values, image, command);
  const body = { ...request.Config, HostConfig: request.HostConfig ?? {}, NetworkingConfig: request.NetworkingConfig ?? {} };
  const path = `/containers/create${request.name ? `?name=${q(request.name)}` : ''}`;
  const create = async () => ({
    id: (await api.json<{ Id: string; Warnings?: string[] }>('POST', path, body)).Id,
    detach: values.detach === true,
    rm: values.rm === true,
  });
  try {
    return await create();
  } catch (e) {
    if (pull === 'never' || !(e instanceof UserError) || e.kind !== 'not-found' || !/image/i.test(e.message)) throw e;
  }
  if (values.quiet !== true) err(`Unable to find image '${image}' locally\n`);
  await pullImage(api, image, values.quiet === true);
  return create();
}

async function create(api: ApiClient, argv: string[]): Promise<number> {
  out(`${(await engineFailure(createFromArgs(api, 'create', argv))).id}\n`);
  return 0;
}

/** run -d prints the id; in the foreground the output comes through attach and the exit
 * code through wait, both asked before the start, as docker's CLI does. */
async function run(api: ApiClient, argv: string[]): Promise<number> {
  const { id, detach, rm } = await engineFailure(createFromArgs(api, 'run', argv));
  if (detach) {
    await engineFailure(api.call('POST', `/containers/${id}/start`));
    out(`${id}\n`);
    return 0;
  }
  const stream = await api.upgrade('POST', `/containers/${id}/attach?stream=1&stdout=1&stderr=1`);
  const reader = new FrameReader((fd, payload) => writeSync(fd === 2 ? 2 : 1, payload));
  const ended = new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => reader.push(chunk));
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  const waited = api.json<{ StatusCode: number; Error?: { Message?: string } | null }>(
    'POST',
    `/containers/${id}/wait?condition=${rm ? 'removed' : 'next-exit'}`,
  );
  try {
    await engineFailure(api.call('POST', `/containers/${id}/start`));
  } catch (e) {
    stream.destroy();
    if (rm) await api.call('DELETE', `/containers/${id}?force=1`).catch(() => {});
    throw e;
  }
  await ended;
  const { StatusCode, Error: failed } = await waited;
  if (failed?.Message) err(`raind run: ${failed.Message}\n`);
  return StatusCode;
}

/** docker's codes for a failed create or start: 127 a command not found, 126 one not
 * executable, 125 the rest (as `raind run` on the engine's host). */
async function engineFailure<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (!(e instanceof UserError) || e instanceof UsageError || e.exitCode !== 1) throw e;
    const m = e.message;
    const code =
      /no such file|not found/i.test(m) && /exec|command|executable/i.test(m)
        ? 127
        : /permission denied/i.test(m) && /exec/i.test(m)
          ? 126
          : 125;
    throw new UserError(m, { kind: e.kind, exitCode: code });
  }
}

/** One call per container, as docker: each name printed when done, failures reported and
 * the exit code 1 when any failed. */
function eachContainer(
  cmd: string,
  options: Record<string, { type: 'boolean' | 'string'; short?: string }>,
  pathOf: (name: string, values: Record<string, unknown>) => [string, string],
): RemoteCommand {
  return async (api, argv) => {
    const split = splitAtPositional(argv, options);
    const values = parseOptions(cmd, split.options, options);
    if (split.rest.length === 0) throw new UsageError(`${cmd}: expected at least one container`);
    let failed = false;
    for (const name of split.rest) {
      try {
        const [method, path] = pathOf(name, values);
        await api.call(method, path);
        out(`${name}\n`);
      } catch (e) {
        if (!(e instanceof UserError) || e instanceof UsageError) throw e;
        err(`raind ${cmd}: ${e.message}\n`);
        failed = true;
      }
    }
    return failed ? 1 : 0;
  };
}

const start = eachContainer('start', {}, (name) => ['POST', `/containers/${q(name)}/start`]);
const stop = eachContainer('stop', { time: { type: 'string', short: 't' } }, (name, v) => {
  const time = v.time as string | undefined;
  if (time !== undefined && !/^\d+$/.test(time)) throw new UsageError(`stop: --time must be a number of seconds, not "${time}"`);
  return ['POST', `/containers/${q(name)}/stop${time === undefined ? '' : `?t=${time}`}`];
});
const rm = eachContainer('rm', { force: { type: 'boolean', short: 'f' }, volumes: { type: 'boolean', short: 'v' } }, (name, v) => [
  'DELETE',
  `/containers/${q(name)}?force=${v.force ? 1 : 0}&v=${v.volumes ? 1 : 0}`,
]);

/** logs [--tail N] [-t] [-f]: what the container wrote, and with -f what it writes until it stops. */
async function logs(api: ApiClient, argv: string[]): Promise<number> {
  const options = {
    tail: { type: 'string', short: 'n' },
    timestamps: { type: 'boolean', short: 't' },
    follow: { type: 'boolean', short: 'f' },
  } as const;
  const split = splitAtPositional(argv, options);
  const values = parseOptions('logs', split.options, options);
  if (split.rest.length !== 1) throw new UsageError('logs: expected one container');
  const tail = (values.tail as string | undefined) ?? 'all';
  if (tail !== 'all' && !/^\d+$/.test(tail)) throw new UsageError(`logs: --tail must be a number or "all", not "${tail}"`);
  const query = `stdout=1&stderr=1&tail=${tail}${values.timestamps ? '&timestamps=1' : ''}${values.follow ? '&follow=1' : ''}`;
  const res = await api.open('GET', `/containers/${q(split.rest[0] ?? '')}/logs?${query}`);
  if ((res.statusCode ?? 0) >= 400) throw failure({ status: res.statusCode ?? 0, body: await readAll(res) });
  /* a terminal's output is raw; otherwise docker's framing says which stream */
  const framed = String(res.headers['content-type'] ?? '').includes('multiplexed');
  const reader = new FrameReader((fd, payload) => writeSync(fd === 2 ? 2 : 1, payload));
  for await (const chunk of res) {
    if (framed) reader.push(chunk as Buffer);
    else writeSync(1, chunk as Buffer);
  }
  return 0;
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The engine pulls; its progress (JSON lines) is shown as its status lines. */
async function pullImage(api: ApiClient, ref: string, quiet: boolean): Promise<void> {
  const at = ref.lastIndexOf('@');
  const colon = ref.lastIndexOf(':');
  const [image, tag] = at > 0 ? [ref, ''] : colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
  const res = await api.open('POST', `/images/create?fromImage=${q(image)}${tag ? `&tag=${q(tag)}` : ''}`);
  if ((res.statusCode ?? 0) >= 400) throw failure({ status: res.statusCode ?? 0, body: await readAll(res) });
  let pending = '';
  let error: string | undefined;
  for await (const chunk of res) {
    pending += (chunk as Buffer).toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      const m = JSON.parse(line) as { status?: string; id?: string; progress?: string; error?: string; errorDetail?: { message?: string } };
      if (m.error) error = m.errorDetail?.message ?? m.error;
      else if (!quiet && m.status && !m.progress) err(`${m.id ? `${m.id}: ` : ''}${m.status}\n`);
    }
  }
  if (error) throw new UserError(`pull ${ref}: ${error}`);
}

async function pull(api: ApiClient, argv: string[]): Promise<number> {
  const options = { quiet: { type: 'boolean', short: 'q' } } as const;
  const split = splitAtPositional(argv, options);
  const values = parseOptions('pull', split.options, options);
  if (split.rest.length !== 1) throw new UsageError('pull: expected one image reference');
  const ref = split.rest[0] ?? '';
  await pullImage(api, ref, values.quiet === true);
  const image = await api.json<{ Id: string }>('GET', `/images/${ref.split('/').map(q).join('/')}/json`);
  out(`${image.Id}\n`);
  return 0;
}

/** The commands a served engine answers, by the names `raind` takes them under. */
const REMOTE: Record<string, RemoteCommand> = {
  version,
  ps,
  'container ps': ps,
  'container ls': ps,
  'container list': ps,
  images,
  'image ls': images,
  'image list': images,
  inspect,
  'container inspect': inspect,
  'image inspect': inspect,
  create,
  'container create': create,
  run,
  'container run': run,
  start,
  'container start': start,
  stop,
  'container stop': stop,
  rm,
  'container rm': rm,
  'container remove': rm,
  logs,
  'container logs': logs,
  pull,
  'image pull': pull,
};

/** `raind --host URL COMMAND...`: the command run by the engine behind the URL. */
export async function remoteCommand(api: ApiClient, command: string, argv: string[]): Promise<number> {
  const run = Object.hasOwn(REMOTE, command) ? REMOTE[command] : undefined;
  if (run === undefined)
    throw new UsageError(
      `${command}: not available with --host (a served engine answers: ${[...new Set(Object.keys(REMOTE).map((k) => k.split(' ').pop()))].join(', ')})`,
    );
  return run(api, argv);
}
