import { UserError } from '../../../lib/errors.js';
import type { ImageRecord } from '../../engine.js';
import { familiarName } from '../../images/names.js';
import { checkPattern, globMatch, referenceMatch } from '../../images/reference-match.js';
import { ApiError, sendJson } from '../http-io.js';
import { type ApiRequest, queryBool, queryFilters } from '../request.js';
import type { Router } from '../router.js';
import { historyView, imageInspectView, imageSummary, unixTime } from '../views/image-views.js';

/** The image endpoints that answer at once: list, inspect, history, tag, remove, prune. */
export function imageRoutes(router: Router): void {
  router.get('/images/json', listImages);
  router.get('/images/{name*}/json', (r) => sendJson(r.res, 200, imageInspectView(knownImage(r, () => r.engine.inspectImage(name(r))))));
  router.get('/images/{name*}/history', (r) => sendJson(r.res, 200, knownImage(r, () => r.engine.imageHistory(name(r))).map(historyView)));
  router.post('/images/{name*}/tag', tagImage);
  router.delete('/images/{name*}', removeImage);
  router.post('/images/prune', pruneImages);
}

function name(r: ApiRequest): string {
  return r.params.name ?? '';
}

/** The engine's answer; its "not found" as docker words it: `No such image: X` (404). */
export function knownImage<T>(r: ApiRequest, work: () => T, what = name(r)): T {
  try {
    return work();
  } catch (err) {
    throw noSuchImage(err, what);
  }
}

export async function knownImageAsync<T>(r: ApiRequest, work: () => Promise<T>, what = name(r)): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw noSuchImage(err, what);
  }
}

function noSuchImage(err: unknown, what: string): unknown {
  return err instanceof UserError && err.kind === 'not-found' && /^image "/.test(err.message)
    ? new ApiError(404, `No such image: ${what}`)
    : err;
}

type ImageTest = (image: ImageRecord, labels: Record<string, string>, created: number) => boolean;

/** docker's image filters: dangling, reference (a pattern), label (key or key=value),
 * before and since (an image: those made before or after it). */
function imageFilters(r: ApiRequest): ImageTest[] {
  const tests: ImageTest[] = [];
  const createdOf = (text: string) => unixTime(knownImage(r, () => r.engine.inspectImage(text), text).Created);
  for (const [key, values] of Object.entries(queryFilters(r))) {
    switch (key) {
      case 'dangling': {
        const wanted = new Set(values.map((v) => dangling(v)));
        if (wanted.size > 1) throw new ApiError(400, 'filters dangling=true and dangling=false contradict each other');
        tests.push((i) => wanted.has(i.repoTags.length === 0));
        break;
      }
      case 'reference':
        for (const v of values) {
          try {
            checkPattern(v);
          } catch (e) {
            throw new ApiError(400, `filter reference: ${(e as Error).message}`);
          }
        }
        tests.push((i) => i.repoTags.length + i.repoDigests.length > 0);
        break;
      case 'label':
        tests.push((_, labels) =>
          values.every((v) => {
            const eq = v.indexOf('=');
            return eq < 0 ? v in labels : labels[v.slice(0, eq)] === v.slice(eq + 1);
          }),
        );
        break;
      case 'before':
      case 'since': {
        const times = values.map(createdOf);
        tests.push((_, __, created) => times.every((t) => (key === 'before' ? created < t : created > t)));
        break;
      }
      default:
        throw new ApiError(400, `invalid filter '${key}' (dangling, reference, label, before and since are supported)`);
    }
  }
  return tests;
}

function dangling(v: string): boolean {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ApiError(400, `filter dangling must be true or false, not "${v}"`);
}

/** With reference patterns, as docker: an image's names are those that match, and an image
 * with none left is not listed. A digest name matches as `repo@digest` or as `repo`. */
function matchingNames(image: ImageRecord, patterns: string[] | undefined): ImageRecord {
  if (!patterns) return image;
  const tagMatch = (t: string) => patterns.some((p) => referenceMatch(p, familiarName(t)));
  const digestMatch = (d: string) => {
    const familiar = familiarName(d);
    return patterns.some((p) => globMatch(p, familiar) || globMatch(p, familiar.slice(0, familiar.indexOf('@'))));
  };
  return { ...image, repoTags: image.repoTags.filter(tagMatch), repoDigests: image.repoDigests.filter(digestMatch) };
}

function listImages(r: ApiRequest): void {
  const tests = imageFilters(r);
  const patterns = queryFilters(r).reference;
  const out: object[] = [];
  for (const stored of r.engine.listImages()) {
    const image = matchingNames(stored, patterns);
    const inspect = r.engine.inspectImage(image.id);
    const labels = inspect.Config?.Labels ?? {};
    if (!tests.every((t) => t(image, labels, unixTime(inspect.Created ?? image.created)))) continue;
    out.push(imageSummary(image, inspect));
  }
  /* newest first, as docker lists them */
  out.sort((a, b) => (b as { Created: number }).Created - (a as { Created: number }).Created);
  sendJson(r.res, 200, out);
}

/** POST /images/{name}/tag?repo=R&tag=T: 201, no body. */
async function tagImage(r: ApiRequest): Promise<void> {
  const repo = r.query.get('repo');
  if (!repo) throw new ApiError(400, 'tag: query parameter repo is required');
  const tag = r.query.get('tag');
  const target = tag ? `${repo}:${tag}` : repo;
  r.target = `${name(r)} ${target}`;
  await knownImageAsync(r, () => r.engine.tagImage(name(r), target));
  r.res.writeHead(201);
  r.res.end();
}

/** DELETE /images/{name}?force=&noprune=: docker's list of what was untagged and deleted. */
async function removeImage(r: ApiRequest): Promise<void> {
  const result = await knownImageAsync(r, () => r.engine.removeImage(name(r), queryBool(r, 'force')));
  sendJson(r.res, 200, [...result.untagged.map((u) => ({ Untagged: u })), ...result.deleted.map((d) => ({ Deleted: d }))]);
}

/** POST /images/prune?filters={"dangling":["false"]}: the unused images (all of them with
 * dangling=false, else the untagged ones), and what their going freed. */
async function pruneImages(r: ApiRequest): Promise<void> {
  let all = false;
  for (const [key, values] of Object.entries(queryFilters(r))) {
    if (key !== 'dangling') throw new ApiError(400, `invalid filter '${key}' (dangling is supported)`);
    all = values.some((v) => !dangling(v));
  }
  const before = new Map(r.engine.listImages().map((i) => [i.id, i]));
  const result = await r.engine.pruneImages(all);
  const deleted = result.deleted.flatMap((id) => [
    ...(before.get(id)?.repoTags ?? []).map((t) => ({ Untagged: familiarName(t) })),
    { Deleted: id },
  ]);
  sendJson(r.res, 200, { ImagesDeleted: deleted, SpaceReclaimed: result.reclaimed });
}
