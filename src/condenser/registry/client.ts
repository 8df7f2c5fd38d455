import { Readable } from 'node:stream';
import { NotFoundError, UserError } from '../../lib/errors.js';
import { sha256Digest } from '../../oci/image/digest.js';
import { MediaType, isIndexType, isManifestType, isSchema1Type } from '../../oci/image/types.js';
import { parseChallenges } from './challenge.js';
import { isInsecure, registryBaseUrl } from './endpoint.js';
import { RETRIES, TransientError, backoffMs, delay, isTransientStatus, retryAfterMs } from './retry.js';
import { DEFAULT_CERTS_DIRS, type TlsSettings, isCertificateError, registryCas, tlsFetchOptions } from './tls.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface RegistryOptions {
  /** registries (host or host:port) reached over plain http */
  insecure?: readonly string[];
  credentials?: Credentials;
  /** false: accept any certificate, and fall back to plain http (podman's --tls-verify=false) */
  tlsVerify?: boolean;
  /** where `<host:port>/ca.crt` is looked for; docker's and podman's directories by default */
  certsDirs?: readonly string[];
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
  /** https first; plain http only for a registry on this machine or named insecure, and
   * only when the server does not speak TLS (docker's order) */
  private base: string;
  private fallback?: string;
  private readonly tls: TlsSettings;
  private readonly tokens = new Map<string, string>();
  private basic = false;

  constructor(
    readonly domain: string,
    private readonly opts: RegistryOptions = {},
  ) {
    const plain = registryBaseUrl(domain, opts.insecure);
    this.base = plain.replace(/^http:/, 'https:');
    if (plain !== this.base || opts.tlsVerify === false) this.fallback = plain.replace(/^https:/, 'http:');
    this.tls = {
      ca: registryCas(domain, opts.certsDirs ?? DEFAULT_CERTS_DIRS),
      verify: opts.tlsVerify !== false && !isInsecure(domain, opts.insecure),
    };
  }

  /** GET /v2/, answering a challenge with the credentials as `docker login` does; a 401 or
   * 403 with them is a clear error. */
  async checkLogin(): Promise<void> {
    const what = `login to ${this.domain}`;
    let res = await this.fetch('/v2/', this.authorization(''), what);
    if (res.status === 401) {
      await res.body?.cancel();
      await this.authenticate(res.headers.get('www-authenticate') ?? '', '', what);
      res = await this.fetch('/v2/', this.authorization(''), what);
    }
    const detail = res.ok ? '' : await registryError(res);
    await res.body?.cancel().catch(() => {});
    if (res.status === 401 || res.status === 403)
      throw new UserError(`${what}: wrong user name or password (HTTP ${res.status}${detail && `: ${detail}`})`, { kind: 'invalid' });
    if (!res.ok) throw new UserError(`${what}: the registry answered HTTP ${res.status}${detail && `: ${detail}`}`);
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

  /** HEAD /v2/<repo>/blobs/<digest>: whether the registry holds the blob (asking with push
   * rights, which a push needs anyway). */
  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const what = `blob ${digest} of ${this.domain}/${repo}`;
    const res = await this.send(repo, 'HEAD', `/v2/${repo}/blobs/${digest}`, {}, undefined, what, [200, 404]);
    return res.status === 200;
  }

  /** Uploads a blob: POST opens an upload, one PUT sends the bytes with their digest. With
   * `from`, another repository of this registry holding the blob, the POST asks to mount it
   * from there first; 'mounted' when the registry did so and no bytes were sent. */
  async uploadBlob(repo: string, digest: string, size: number, open: () => Readable, from?: string): Promise<'mounted' | 'uploaded'> {
    const what = `blob ${digest} to ${this.domain}/${repo}`;
    const mount = from === undefined ? '' : `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const start = await this.send(repo, 'POST', `/v2/${repo}/blobs/uploads/${mount}`, {}, undefined, what, [201, 202]);
    if (start.status === 201) {
      await start.body?.cancel();
      return 'mounted';
    }
    const location = start.headers.get('location');
    if (!location) throw new UserError(`${what}: the registry gave no upload location`);
    const url = new URL(location, this.base);
    url.searchParams.set('digest', digest);
    const body = Readable.toWeb(open()) as unknown as BodyInit;
    await this.send(
      repo,
      'PUT',
      url.pathname + url.search,
      { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
      body,
      what,
      [201],
      url.origin,
    );
    return 'uploaded';
  }

  /** PUT /v2/<repo>/manifests/<tag>; returns the digest the registry gives it. */
  async putManifest(repo: string, reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    const what = `manifest ${this.domain}/${repo}:${reference}`;
    const res = await this.send(repo, 'PUT', `/v2/${repo}/manifests/${reference}`, { 'Content-Type': mediaType }, bytes, what, [201]);
    return res.headers.get('docker-content-digest') ?? sha256Digest(bytes);
  }

  /** One request of a push (scope pull,push), answering an authentication challenge once;
   * a status not in `ok` is an error. A body is sent once: a challenge comes before one. */
  private async send(
    repo: string,
    method: string,
    path: string,
    headers: Record<string, string>,
    body: BodyInit | Buffer | undefined,
    what: string,
    ok: number[],
    originGiven?: string,
  ): Promise<Response> {
    await this.settleScheme(what);
    const origin = originGiven ?? this.base;
    const tls = origin.startsWith('https:') ? tlsFetchOptions(this.tls, what) : {};
    const scope = `repository:${repo}:pull,push`;
    const go = async () => {
      try {
        const init: RequestInit & { duplex?: 'half' } = {
          method,
          headers: { ...headers, ...this.authorization(scope) },
          redirect: 'follow',
          ...tls,
        };
        if (body !== undefined) {
          init.body = Buffer.isBuffer(body) ? new Uint8Array(body) : (body as BodyInit);
          init.duplex = 'half';
        }
        return await fetch(origin + path, init);
      } catch (err) {
        const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
        throw new UserError(`${what}: cannot reach ${origin}: ${e.cause?.code ?? e.cause?.message ?? e.code ?? e.message}`, { cause: err });
      }
    };
    const stream = body !== undefined && !(body instanceof Buffer);
    if (stream && !this.tokens.has(scope) && !this.basic) {
      /* a stream cannot be sent twice: any challenge is answered by a bodiless request first */
      const probe = await this.send(repo, 'GET', '/v2/', {}, undefined, what, [200]);
      await probe.body?.cancel();
    }
    let res = await go();
    if (res.status === 401 && !stream) {
      await res.body?.cancel();
      await this.authenticate(res.headers.get('www-authenticate') ?? '', scope, what);
      res = await go();
    }
    if (ok.includes(res.status)) return res;
    const detail = method === 'HEAD' ? '' : await registryError(res);
    await res.body?.cancel().catch(() => {});
    if (res.status === 401 || res.status === 403)
      throw new UserError(`${what}: access denied (HTTP ${res.status}${detail && `: ${detail}`})`, { kind: 'invalid' });
    throw new UserError(`${what}: the registry answered HTTP ${res.status}${detail && `: ${detail}`}`);
  }

  /** Before a request that cannot be repeated (a push's POST or PUT): a GET of /v2/ finds
   * whether the registry speaks TLS, and moves to http where that is allowed, as a pull's
   * first GET does. */
  private async settleScheme(what: string): Promise<void> {
    if (this.fallback === undefined) return;
    const res = await this.fetch('/v2/', {}, what);
    await res.body?.cancel();
    this.fallback = undefined;
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
    let res = await this.fetch(path, { ...headers, ...this.authorization(scope) }, what);
    if (res.status === 401) {
      await res.body?.cancel();
      await this.authenticate(res.headers.get('www-authenticate') ?? '', scope, what);
      res = await this.fetch(path, { ...headers, ...this.authorization(scope) }, what);
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

  /** A GET of a path of the registry; the first one that finds no TLS there moves to http
   * when that is allowed. */
  private async fetch(path: string, headers: Record<string, string>, what: string): Promise<Response> {
    try {
      return await this.fetchUrl(this.base + path, headers, what, true);
    } catch (err) {
      const code = errorCode(err instanceof UserError ? err.cause : undefined);
      if (this.fallback === undefined || code === undefined || isCertificateError(code)) throw err;
      this.base = this.fallback;
      this.fallback = undefined;
      return this.fetchUrl(this.base + path, headers, what, true);
    }
  }

  private async fetchUrl(url: string, headers: Record<string, string>, what: string, registry: boolean): Promise<Response> {
    const tls = registry && url.startsWith('https:') ? tlsFetchOptions(this.tls, what) : {};
    try {
      return await fetch(url, { headers, redirect: 'follow', ...tls });
    } catch (err) {
      const code = errorCode(err);
      if (isCertificateError(code)) {
        const hint = this.tls.ca.length
          ? 'the CA in certs.d does not sign it'
          : `put its CA in certs.d/${this.domain}/ca.crt, or use --tls-verify=false`;
        throw new UserError(`${what}: the certificate of ${new URL(url).host} is not trusted (${code}): ${hint}`, { cause: err });
      }
      /* a connection that fails may work a moment later: the caller tries again */
      const e = err as { message?: string; cause?: { message?: string } };
      throw new TransientError(`${what}: cannot reach ${url}: ${code ?? e.cause?.message ?? e.message}`, undefined, { cause: err });
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
    const wanted = params.scope ?? scope;
    if (wanted) url.searchParams.set('scope', wanted);
    const headers: Record<string, string> = {};
    if (this.opts.credentials) headers.Authorization = `Basic ${basicValue(this.opts.credentials)}`;
    const res = await this.fetchUrl(url.toString(), headers, what, url.host === new URL(this.base).host);
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

/* Node puts the system error in cause; Bun names it in code */
function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.cause?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
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
