import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Engine } from '../engine.js';
import type { AuditLog } from './audit.js';
import { ApiError, sendError, statusOf } from './http-io.js';
import type { ApiRequest, Peer } from './request.js';
import type { Router } from './router.js';
import { takeUpgradeBody } from './upgrade-body.js';
import { API_VERSION, MIN_API_VERSION, splitVersion, versionNumber } from './version.js';
import { reason } from '../../lib/errors.js';

/** Headers dockerd puts on every answer; the CLI reads the version and OS from them. */
const COMMON_HEADERS = {
  'Api-Version': API_VERSION,
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  Server: `Raind/${API_VERSION} (linux)`,
};

const CHANGES_STATE = new Set(['POST', 'PUT', 'DELETE']);

/** Serves the router's routes for one engine: answers, errors in docker's shape, and an audit
 * line for every request that may change state. */
export class ApiDispatcher {
  constructor(
    private readonly engine: Engine,
    private readonly router: Router,
    private readonly audit: AuditLog,
  ) {}

  /** A plain request. */
  onRequest(req: IncomingMessage, res: ServerResponse, peer: Peer): void {
    for (const [k, v] of Object.entries(COMMON_HEADERS)) res.setHeader(k, v);
    void this.dispatch(req, res, peer);
  }

  /** A request that asks to take over the connection (attach, exec start). */
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, peer: Peer): void {
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    for (const [k, v] of Object.entries(COMMON_HEADERS)) res.setHeader(k, v);
    socket.on('error', () => socket.destroy());
    void takeUpgradeBody(req, socket, head).then((rest) => this.dispatch(req, res, peer, { socket, head: rest }));
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, peer: Peer, upgrade?: ApiRequest['upgrade']): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://raind');
    const { path, version } = splitVersion(url.pathname);
    const method = req.method ?? 'GET';
    const r: ApiRequest = {
      engine: this.engine,
      req,
      res,
      params: {},
      query: url.searchParams,
      version,
      peer,
      ...(upgrade ? { upgrade } : {}),
    };
    let error: unknown;
    try {
      checkVersion(version);
      const found = this.router.match(method, path);
      if ('allowed' in found) {
        if (found.allowed.length > 0) throw new ApiError(405, `${method} is not allowed on ${path}`);
        throw new ApiError(404, 'page not found');
      }
      r.params = found.params;
      await found.handler(r);
    } catch (err) {
      error = err;
      if (!res.headersSent) sendError(res, err);
      else if (!res.writableEnded) res.destroy();
    }
    if (CHANGES_STATE.has(method)) {
      this.audit.append({
        time: new Date().toISOString(),
        who: peer,
        method,
        path: url.pathname,
        ...((r.target ?? firstParam(r.params)) ? { target: r.target ?? firstParam(r.params) } : {}),
        status: error === undefined ? (r.status ?? res.statusCode) : statusOf(error),
        ...(error === undefined ? {} : { error: error instanceof ApiError ? error.message : reason(error) }),
      });
    }
  }
}

function firstParam(params: Record<string, string>): string | undefined {
  return Object.values(params)[0];
}

function checkVersion(version: string): void {
  const asked = versionNumber(version);
  if (Number.isNaN(asked)) throw new ApiError(400, `bad API version "${version}" in the path`);
  if (asked > versionNumber(API_VERSION))
    throw new ApiError(400, `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  if (asked < versionNumber(MIN_API_VERSION))
    throw new ApiError(
      400,
      `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
    );
}
