import { Readable } from 'node:stream';
import { NotFoundError, UserError } from '../../lib/errors.js';
import { sha256Digest } from '../../oci/image/digest.js';
import { MediaType, isIndexType, isManifestType, isSchema1Type } from '../../oci/image/types.js';
import { parseChallenges } from './challenge.js';
import { registryBaseUrl } from './endpoint.js';
import { RETRIES, TransientError, backoffMs, delay, isTransientStatus, retryAfterMs } from './retry.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface RegistryOptions {
  /** registries (host or host:port) reached over plain http */
  insecure?: readonly string[];
  credentials?: Credentials;
}

export interface FetchedManifest {
  mediaType: string;
  /** the exact bytes: their digest is the manifest's */
  bytes: Buffer;
  digest: string;
}

export interface BlobResponse {
  body: Readable;
  /** where the body starts: the offset asked for when the registry honoured the range, else 0 */
  offset: number;
}

/** What a manifest request accepts: both image-spec and Docker schema 2, indexes and single
 * manifests. Schema 1 is left out, so a registry that can convert serves schema 2. */
const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerList, MediaType.dockerManifest].join(', ');
/** manifests are small; anything larger is no manifest (containerd's limit) */
const MANIFEST_MAX = 4 << 20;

/** A client of one registry's distribution API (v2), for one repository at a time. Tokens
 * are kept per scope for the client's life (one pull). */
export class RegistryClient {
  private readonly base: string;
  private readonly tokens = new Map<string, string>();
  private basic = false;

  constructor(
    readonly domain: string,
    private readonly opts: RegistryOptions = {},
  ) {
    this.base = registryBaseUrl(domain, opts.insecure);
  }

  /** GET /v2/<repo>/manifests/<tag or digest>; a digest asked for is checked against the bytes. */
  async getManifest(repo: string, reference: string): Promise<FetchedManifest> {
    const what = `manifest ${this.domain}/${repo}:${reference}`.replace(/:(sha256:)/, '@$1');
    const res = await this.request(repo, `/v2/${repo}/manifests/${reference}`, { Accept: MANIFEST_ACCEPT }, what);
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > MANIFEST_MAX) throw new UserError(`${what}: too large (${length} bytes)`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > MANIFEST_MAX) throw new UserError(`${what}: too large (${bytes.length} bytes)`);
    let doc: { schemaVersion?: number; mediaType?: string; manifests?: unknown; layers?: unknown };
    try {
      doc = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new UserError(`${what}: the registry sent no JSON`);
    }
    const header = (res.headers.get('content-type') ?? '').split(';')[0]!.trim(); /* split yields one part at least */
    if (doc.schemaVersion === 1 || isSchema1Type(header)) {
      throw new UserError(`${what}: Docker schema 1 manifests are not supported (push the image again with a current client)`, {
        kind: 'invalid',
      });
    }
    const mediaType =
      doc.mediaType ??
      (isIndexType(header) || isManifestType(header) ? header : Array.isArray(doc.manifests) ? MediaType.ociIndex : MediaType.ociManifest);
    if (!isIndexType(mediaType) && !isManifestType(mediaType))
      throw new UserError(`${what}: unsupported media type "${mediaType}"`, { kind: 'invalid' });
    const digest = sha256Digest(bytes);
    if (reference.startsWith('sha256:') && digest !== reference)
      throw new UserError(`${what}: the registry sent content with digest ${digest}`);
    return { mediaType, bytes, digest };
  }

  /** GET /v2/<repo>/blobs/<digest>, as a stream, from `offset` on when the registry serves
   * ranges (206); the caller checks the bytes. */
  async getBlob(repo: string, digest: string, offset = 0): Promise<BlobResponse> {
    const what = `blob ${digest} of ${this.domain}/${repo}`;
    const range: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
    const res = await this.request(repo, `/v2/${repo}/blobs/${digest}`, range, what);
    if (!res.body) throw new UserError(`${what}: the registry sent no body`);
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    if (offset > 0 && res.status === 206) {
      const start = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1];
      if (start !== undefined && Number(start) !== offset) {
        body.destroy();
        throw new UserError(`${what}: asked for bytes from ${offset}, the registry sent from ${start}`);
      }
      return { body, offset };
    }
    return { body, offset: 0 };
  }

  /** One GET, answering an authentication challenge once and trying again, with backoff,
   * when the connection fails or the registry is busy. */
  private async request(repo: string, path: string, headers: Record<string, string>, what: string): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.requestOnce(repo, path, headers, what);
      } catch (err) {
        if (!(err instanceof TransientError) || attempt >= RETRIES) throw err;
        await delay(backoffMs(attempt, err));
      }
    }
  }

  private async requestOnce(repo: string, path: string, headers: Record<string, string>, what: string): Promise<Response> {
    const scope = `repository:${repo}:pull`;
    let res = await this.fetch(this.base + path, { ...headers, ...this.authorization(scope) }, what);
    if (res.status === 401) {
      await res.body?.cancel();
      await this.authenticate(res.headers.get('www-authenticate') ?? '', scope, what);
      res = await this.fetch(this.base + path, { ...headers, ...this.authorization(scope) }, what);
    }
    if (res.ok) return res;
    const detail = await registryError(res);
    await res.body?.cancel().catch(() => {});
    if (res.status === 404) throw new NotFoundError(`${what}: not found (${detail || 'HTTP 404'})`);
    if (res.status === 401 || res.status === 403)
      throw new UserError(`${what}: access denied (HTTP ${res.status}${detail && `: ${detail}`})`, { kind: 'invalid' });
    const message = `${what}: the registry answered HTTP ${res.status}${detail && `: ${detail}`}`;
    if (isTransientStatus(res.status)) throw new TransientError(message, retryAfterMs(res.headers.get('retry-after')));
    throw new UserError(message);
  }

  private async fetch(url: string, headers: Record<string, string>, what: string): Promise<Response> {
    try {
      return await fetch(url, { headers, redirect: 'follow' });
    } catch (err) {
      /* Node puts the system error in cause; Bun names it in code */
      const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
      throw new TransientError(`${what}: cannot reach ${url}: ${e.cause?.code ?? e.cause?.message ?? e.code ?? e.message}`, undefined, {
        cause: err,
      });
    }
  }

  private authorization(scope: string): Record<string, string> {
    const token = this.tokens.get(scope);
    if (token !== undefined) return { Authorization: `Bearer ${token}` };
    if (this.basic && this.opts.credentials) return { Authorization: `Basic ${basicValue(this.opts.credentials)}` };
    return {};
  }

  private async authenticate(header: string, scope: string, what: string): Promise<void> {
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      this.tokens.set(scope, await this.fetchToken(bearer.params, scope, what));
      return;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (!this.opts.credentials) throw new UserError(`${what}: the registry requires a user name and password`, { kind: 'invalid' });
      this.basic = true;
      return;
    }
    throw new UserError(`${what}: the registry asks for an unsupported authentication ("${header}")`);
  }

  /** The token service of a Bearer challenge (distribution's token spec): anonymous, or with
   * the credentials as Basic authentication. */
  private async fetchToken(params: Record<string, string>, scope: string, what: string): Promise<string> {
    if (!params.realm) throw new UserError(`${what}: the registry's Bearer challenge names no realm`);
    let url: URL;
    try {
      url = new URL(params.realm);
    } catch {
      throw new UserError(`${what}: the registry's token realm "${params.realm}" is no URL`);
    }
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? scope);
    const headers: Record<string, string> = {};
    if (this.opts.credentials) headers.Authorization = `Basic ${basicValue(this.opts.credentials)}`;
    const res = await this.fetch(url.toString(), headers, what);
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new UserError(`${what}: the token service ${url.origin} answered HTTP ${res.status}`, {
        kind: res.status === 401 ? 'invalid' : 'host',
      });
    }
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new UserError(`${what}: the token service ${url.origin} sent no token`);
    return token;
  }
}

function basicValue(c: Credentials): string {
  return Buffer.from(`${c.username}:${c.password}`).toString('base64');
}

/** The first message of a distribution error body: `{"errors":[{"code":..,"message":..}]}`. */
async function registryError(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { errors?: { code?: string; message?: string }[] };
    const e = body.errors?.[0];
    return e?.message ?? e?.code?.toLowerCase() ?? '';
  } catch {
    return '';
  }
}
