import { parseSignal } from '../../../lib/signals.js';
import { UserError } from '../../../lib/errors.js';
import { inspectView } from '../../containers/inspect-view.js';
import { containerFilter, hasStatusFilter } from '../../containers/list-filters.js';
import { createRequestOf } from '../create-body.js';
import { announceStart } from '../start-waiters.js';
import { ApiError, readJson, sendJson, sendNoContent } from '../http-io.js';
import { type ApiRequest, queryBool, queryFilters, queryInt } from '../request.js';
import type { Router } from '../router.js';
import { containerSummary } from '../views/container-summary.js';

/** The container endpoints that need no stream: list, create, inspect, the lifecycle verbs,
 * wait, remove, rename, top, prune. */
export function containerRoutes(router: Router): void {
  router.get('/containers/json', listContainers);
  router.post('/containers/create', createContainer);
  router.get('/containers/{id}/json', (r) => sendJson(r.res, 200, apiInspectView(r.engine.containers.inspect(r.params.id ?? ''))));
  router.post('/containers/{id}/start', startContainer);
  router.post('/containers/{id}/stop', stopContainer);
  router.post('/containers/{id}/restart', restartContainer);
  router.post('/containers/{id}/kill', killContainer);
  router.post('/containers/{id}/pause', async (r) => {
    await r.engine.containers.pause(r.params.id ?? '');
    sendNoContent(r.res);
  });
  router.post('/containers/{id}/unpause', async (r) => {
    await r.engine.containers.unpause(r.params.id ?? '');
    sendNoContent(r.res);
  });
  router.post('/containers/{id}/wait', waitContainer);
  router.delete('/containers/{id}', removeContainer);
  router.post('/containers/{id}/rename', async (r) => {
    const name = r.query.get('name');
    if (!name) throw new ApiError(400, 'rename: query parameter name is required');
    await r.engine.containers.rename(r.params.id ?? '', name);
    sendNoContent(r.res);
  });
  router.get('/containers/{id}/top', (r) => {
    const args = r.query.get('ps_args');
    const list = r.engine.containers.top(r.params.id ?? '', args ? args.split(/\s+/).filter(Boolean) : []);
    sendJson(r.res, 200, list);
  });
  router.post('/containers/prune', async (r) => {
    const report = await r.engine.containers.prune();
    sendJson(r.res, 200, report);
  });
}

function listContainers(r: ApiRequest): void {
  const filters = Object.entries(queryFilters(r)).map(([key, values]) => {
    const each = values.map((v) => containerFilter(key, v));
    /* docker: the values of a key are alternatives, but labels must all be there */
    const test = (c: Parameters<(typeof each)[number]>[0]) => (key === 'label' ? each.every((g) => g(c)) : each.some((g) => g(c)));
    const f = Object.assign(test, { status: each.some((g) => g.status) });
    return f;
  });
  const all = queryBool(r, 'all');
  let records = r.engine.containers.list().filter((c) => all || c.State.Running || hasStatusFilter(filters));
  records = records.filter((c) => filters.every((f) => f(c))).reverse();
  const limit = queryInt(r, 'limit');
  if (limit !== undefined && limit > 0) records = records.slice(0, limit);
  sendJson(r.res, 200, records.map(containerSummary));
}

async function createContainer(r: ApiRequest): Promise<void> {
  const body = await readJson<Record<string, unknown>>(r.req);
  const request = createRequestOf(body, r.query.get('name'));
  const warnings: string[] = [];
  const record = await r.engine.containers.create(request, { warn: (m) => warnings.push(m) });
  r.target = record.Id;
  sendJson(r.res, 201, { Id: record.Id, Warnings: warnings });
}

/** Status of the container, or 404 when there is none. */
function statusOf(r: ApiRequest): string {
  return r.engine.containers.inspect(r.params.id ?? '').State.Status;
}

async function startContainer(r: ApiRequest): Promise<void> {
  const status = statusOf(r);
  /* docker: 304 when it already runs */
  if (status === 'running' || status === 'paused') return sendNoContent(r.res, 304);
  await r.engine.containers.start(r.params.id ?? '', (record) => announceStart(r.engine, record));
  sendNoContent(r.res);
}

function timeoutOf(r: ApiRequest): number | undefined {
  const t = queryInt(r, 't') ?? queryInt(r, 'timeout');
  if (t !== undefined && t < -1) throw new ApiError(400, `query parameter t must be -1 or more, not ${t}`);
  /* -1: wait for ever, as docker; the engine's wait is bounded, so a long one */
  return t === -1 ? 365 * 86400 : t;
}

async function stopContainer(r: ApiRequest): Promise<void> {
  const timeout = timeoutOf(r);
  const status = statusOf(r);
  if (status !== 'running' && status !== 'paused' && status !== 'restarting') return sendNoContent(r.res, 304);
  await r.engine.containers.stop(r.params.id ?? '', timeout);
  sendNoContent(r.res);
}

async function restartContainer(r: ApiRequest): Promise<void> {
  const timeout = timeoutOf(r);
  await r.engine.containers.stop(r.params.id ?? '', timeout);
  await r.engine.containers.start(r.params.id ?? '', (record) => announceStart(r.engine, record));
  sendNoContent(r.res);
}

async function killContainer(r: ApiRequest): Promise<void> {
  const text = r.query.get('signal') || 'KILL';
  let signal: NodeJS.Signals | number;
  try {
    signal = parseSignal(text, 'signal');
  } catch (e) {
    throw new ApiError(400, (e as Error).message);
  }
  await r.engine.containers.kill(r.params.id ?? '', String(signal));
  sendNoContent(r.res);
}

/** wait?condition=not-running|next-exit|removed. The headers go out at once: docker's
 * client sends wait before start and starts the container only once they arrived, so the
 * wait is set before the container can exit. */
async function waitContainer(r: ApiRequest): Promise<void> {
  const condition = r.query.get('condition') || 'not-running';
  if (!['not-running', 'next-exit', 'removed'].includes(condition))
    throw new ApiError(400, `query parameter condition must be not-running, next-exit or removed, not "${condition}"`);
  const id = r.engine.containers.resolve(r.params.id ?? '');
  const aborted = new AbortController();
  r.req.socket.on('close', () => aborted.abort());
  r.res.writeHead(200, { 'Content-Type': 'application/json' });
  r.res.flushHeaders();
  let body: object;
  try {
    const code = await r.engine.containers.wait(id, { removed: condition === 'removed', signal: aborted.signal });
    body = { StatusCode: code, Error: null };
  } catch (e) {
    if (aborted.signal.aborted) return;
    body = { StatusCode: -1, Error: { Message: e instanceof UserError ? e.message : String(e) } };
  }
  r.res.end(JSON.stringify(body));
}

async function removeContainer(r: ApiRequest): Promise<void> {
  await r.engine.containers.remove(r.params.id ?? '', queryBool(r, 'force'), queryBool(r, 'v'));
  sendNoContent(r.res);
}

/** inspect as the API shows it. Clients read HostConfig.LogConfig.Type to decide whether
 * the logs endpoint serves a container's logs (docker-compose shows none for a driver other
 * than json-file, journald or local): conmon's k8s-file log is served by it, so the API
 * names the driver whose behaviour it gives. */
function apiInspectView(record: Parameters<typeof inspectView>[0]): object {
  const view = inspectView(record) as { HostConfig: object };
  return { ...view, HostConfig: { ...view.HostConfig, LogConfig: { Type: 'json-file', Config: {} } } };
}
