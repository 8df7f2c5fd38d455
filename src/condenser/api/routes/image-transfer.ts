import { statSync } from 'node:fs';
import { parsePlatform } from '../../../oci/image/platform.js';
import { formatReference, parseReference, repositoryName } from '../../../oci/image/reference.js';
import type { ImportOptions, LayerEvent, PullOptions, PushEvent, PushOptions } from '../../engine.js';
import { familiarName, findImage } from '../../images/names.js';
import { isLoopbackHost } from '../../registry/endpoint.js';
import { ApiError } from '../http-io.js';
import { type JsonStream, shortId, streamed } from '../json-stream.js';
import { registryAuth } from '../registry-auth.js';
import type { ApiRequest } from '../request.js';
import type { Router } from '../router.js';
import { knownImage, knownImageAsync } from './images.js';

/** The image endpoints that move images in and out: pull and import (create), push, save
 * (get) and load; their answers are streams. */
export function imageTransferRoutes(router: Router): void {
  router.post('/images/create', createImage);
  router.post('/images/{name*}/push', pushImage);
  router.get('/images/get', (r) => saveImages(r, r.query.getAll('names')));
  router.get('/images/{name*}/get', (r) => saveImages(r, [r.params.name ?? '']));
  router.post('/images/load', loadImages);
}

/** POST /images/create: a pull (fromImage) or an import of the body (fromSrc=-). */
async function createImage(r: ApiRequest): Promise<void> {
  const fromImage = r.query.get('fromImage');
  const fromSrc = r.query.get('fromSrc');
  if (fromSrc) return importImage(r, fromSrc);
  if (!fromImage) throw new ApiError(400, 'query parameter fromImage (or fromSrc) is required');
  return pullImage(r, fromImage);
}

/** docker's default (its insecure-registries of 127.0.0.0/8): a registry on this machine
 * (127.0.0.0/8, ::1, localhost) is insecure, any certificate or plain http. raind's own
 * pull verifies it, as podman's does. */
function insecureIfLocal(domain: string): string[] {
  return isLoopbackHost(domain) ? [domain] : [];
}

/** The reference `fromImage` and `tag` name: the tag may be a digest (`docker pull x@sha256:...`). */
function pullReference(fromImage: string, tag: string | null): string {
  if (!tag) return fromImage;
  return tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`;
}

async function pullImage(r: ApiRequest, fromImage: string): Promise<void> {
  const text = pullReference(fromImage, r.query.get('tag'));
  const ref = parseReference(text);
  const full = formatReference(ref);
  r.target = full;
  const opts: PullOptions = { insecure: insecureIfLocal(ref.domain) };
  const platform = r.query.get('platform');
  if (platform) opts.platform = parsePlatform(platform);
  const credentials = registryAuth(r);
  if (credentials) opts.credentials = credentials;
  let before: string | undefined;
  try {
    before = findImage(r.engine.listImages(), full).image.id;
  } catch {}

  await streamed(r.res, async (s) => {
    /* "Pulling from" goes out with the first layer's news, not before: a repository or tag
     * the registry does not have is still a 404 then, as docker's */
    let begun = false;
    const begin = () => {
      if (begun) return;
      begun = true;
      s.status(`Pulling from ${ref.path}`, ref.digest ?? ref.tag);
    };
    opts.layerProgress = (e: LayerEvent) => {
      begin();
      layerMessage(s, e);
    };
    const { image } = await r.engine.pull(text, opts);
    begin();
    const digest = image.repoDigests.find((d) => d.startsWith(`${repositoryName(ref)}@`));
    if (digest) s.status(`Digest: ${digest.slice(digest.indexOf('@') + 1)}`);
    s.status(`Status: ${before === image.id ? 'Image is up to date' : 'Downloaded newer image'} for ${familiarName(full)}`);
  });
}

/** A layer's news as docker's pull reports it. */
function layerMessage(s: JsonStream, e: LayerEvent): void {
  const id = shortId(e.digest);
  if (e.status === 'Downloading') {
    s.write({
      status: 'Downloading',
      progressDetail: { current: e.current ?? 0, ...(e.total ? { total: e.total } : {}) },
      id,
    });
    return;
  }
  s.status(e.status, id);
}

/** fromSrc=-: the body is a root filesystem tar (plain or gzip), named repo[:tag]; docker's
 * answer is the image id as a status line. */
async function importImage(r: ApiRequest, fromSrc: string): Promise<void> {
  if (fromSrc !== '-') throw new ApiError(400, `fromSrc: only "-" (the request body) is supported, not "${fromSrc}"`);
  const opts: ImportOptions = { changes: r.query.getAll('changes').filter(Boolean), source: '-' };
  const message = r.query.get('message');
  if (message) opts.message = message;
  const repo = r.query.get('repo');
  const tag = r.query.get('tag');
  if (repo) opts.reference = tag ? `${repo}:${tag}` : repo;
  if (opts.reference) r.target = opts.reference;
  await streamed(r.res, async (s) => {
    const id = await r.engine.importImage(r.req, opts);
    s.status(id);
  });
}

/** POST /images/{name}/push?tag=T: that tag of the repository, or every tag it has here. */
async function pushImage(r: ApiRequest): Promise<void> {
  const name = r.params.name ?? '';
  const tag = r.query.get('tag');
  const ref = parseReference(pullReference(name, tag));
  const repository = repositoryName(ref);
  let refs: string[];
  if (tag || ref.digest !== undefined || name.slice(name.lastIndexOf('/') + 1).includes(':')) {
    refs = [formatReference(ref)];
    knownImage(r, () => findImage(r.engine.listImages(), refs[0]!), familiarName(refs[0]!));
  } else {
    refs = r.engine
      .listImages()
      .flatMap((i) => i.repoTags)
      .filter((t) => t.startsWith(`${repository}:`));
    if (refs.length === 0) throw new ApiError(404, `An image does not exist locally with the tag: ${familiarName(repository)}`);
  }
  r.target = refs.join(' ');
  const credentials = registryAuth(r);
  await streamed(r.res, async (s) => {
    s.status(`The push refers to repository [${repository}]`);
    for (const text of refs) {
      const opts: PushOptions = { insecure: insecureIfLocal(ref.domain), layerProgress: (e) => pushMessage(s, e) };
      if (credentials) opts.credentials = credentials;
      const result = await r.engine.push(text, opts);
      const size = statSync(r.engine.images.blobs.path(result.digest)).size;
      const pushed = parseReference(text);
      const label = pushed.tag ?? pushed.digest ?? 'latest';
      s.status(`${label}: digest: ${result.digest} size: ${size}`);
      s.write({ progressDetail: {}, aux: { Tag: label, Digest: result.digest, Size: size } });
    }
  });
}

function pushMessage(s: JsonStream, e: PushEvent): void {
  s.status(e.status === 'Mounted' ? `Mounted from ${e.from ?? 'another repository'}` : e.status, shortId(e.digest));
}

/** GET /images/get?names=A&names=B: a `docker save` archive, streamed. An unknown name is a
 * 404 before any byte goes. */
async function saveImages(r: ApiRequest, names: string[]): Promise<void> {
  if (names.length === 0 || names.some((n) => n === '')) throw new ApiError(400, 'query parameter names is required');
  for (const n of names) knownImage(r, () => findImage(r.engine.listImages(), n), n);
  r.res.setHeader('Content-Type', 'application/x-tar');
  await knownImageAsync(r, () => r.engine.saveImages(names, 'docker-archive', r.res), names.join(', '));
}

/** POST /images/load: the body, a `docker save` or OCI archive, streamed to the engine (no
 * body size limit); docker's answer names each image loaded (with quiet too: it has no
 * progress to leave out). A body that is no archive is a 400 before any line. */
async function loadImages(r: ApiRequest): Promise<void> {
  await streamed(r.res, async (s) => {
    const { images } = await r.engine.loadImages(r.req);
    for (const image of images) {
      if (image.names.length === 0) s.write({ stream: `Loaded image ID: ${image.id}\n` });
      for (const n of image.names) s.write({ stream: `Loaded image: ${familiarName(n)}\n` });
    }
  });
}
