import { isatty } from 'node:tty';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from '../lib/errors.js';
import { parsePlatform } from '../oci/image/platform.js';
import type { Engine, PullOptions } from '../condenser/engine.js';
import { familiarName } from '../condenser/images/names.js';
import { parseImageFilters, referenceMatch } from './filters.js';
import { REGISTRY_OPTIONS, registryEngine, withFlagValues } from './login.js';
import { err, humanSize, out, table, timeAgo } from './output.js';
import { PullProgress } from './progress.js';

type Args = string[];

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

function parse(cmd: string, argv: Args, options: Options): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args: withFlagValues(argv), options, allowPositionals: true, strict: true }) as {
      values: Values;
      positionals: string[];
    };
  } catch (e) {
    throw new UsageError(`${cmd}: ${(e as Error).message}`);
  }
}

export async function imagePull(engine: Engine, argv: Args): Promise<number> {
  const { values, positionals } = parse('pull', argv, {
    platform: { type: 'string' },
    creds: { type: 'string' },
    'insecure-registry': { type: 'string', multiple: true },
    quiet: { type: 'boolean', short: 'q' },
    ...REGISTRY_OPTIONS,
    'max-concurrent-downloads': { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('pull: expected one image reference');
  const registry = registryEngine('pull', engine, values);
  const opts: PullOptions = { ...registry.opts };
  if (values.platform !== undefined) opts.platform = parsePlatform(values.platform as string);
  if (values.creds !== undefined) {
    const creds = values.creds as string;
    const colon = creds.indexOf(':');
    if (colon <= 0) throw new UsageError('pull: --creds must be USER:PASSWORD');
    opts.credentials = { username: creds.slice(0, colon), password: creds.slice(colon + 1) };
  }
  opts.insecure = (values['insecure-registry'] as string[] | undefined) ?? [];
  const concurrent = values['max-concurrent-downloads'] as string | undefined;
  if (concurrent !== undefined) {
    const n = Number(concurrent);
    if (!Number.isInteger(n) || n < 1 || n > 64)
      throw new UsageError(`pull: --max-concurrent-downloads must be a whole number from 1 to 64, not "${concurrent}"`);
    opts.maxConcurrentDownloads = n;
  }
  if (!values.quiet) {
    const progress = new PullProgress(err, isatty(2));
    opts.progress = progress.say;
    opts.layerProgress = progress.layer;
  }
  const [reference] = positionals;
  if (reference === undefined) throw new UsageError('pull: expected an image reference');
  const { image } = await registry.engine.pull(reference, opts);
  out(`${image.id}\n`);
  return 0;
}

interface Row {
  Id: string;
  Repository: string;
  Tag: string;
  Digest: string;
  Created: string;
  Size: number;
}

export function imageList(engine: Engine, argv: Args): number {
  const { values } = parse('images', argv, {
    format: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    all: { type: 'boolean', short: 'a' },
    digests: { type: 'boolean' },
    filter: { type: 'string', short: 'f', multiple: true },
  });
  const format = (values.format as string | undefined) ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError(`images: --format must be table or json, not "${format}"`);
  const filters = parseImageFilters('images', (values.filter as string[] | undefined) ?? []);
  const rows: Row[] = [];
  for (const image of engine.listImages()) {
    const dangling = image.repoTags.length === 0;
    if (filters.dangling !== undefined && filters.dangling !== dangling) continue;
    let tags = image.repoTags.map((t) => familiarName(t));
    if (filters.references.length) {
      tags = tags.filter((t) => filters.references.some((pattern) => referenceMatch(pattern, t)));
      if (tags.length === 0) continue;
    }
    /* as docker: a row's digest is one of its own repository's (`<none>` when it has none),
     * and with --digests a repository with several digests has a row for each */
    const digests = image.repoDigests.map((d) => familiarName(d));
    const digestsOf = (repository: string | undefined) =>
      repository === undefined ? digests : digests.filter((d) => d.slice(0, d.indexOf('@')) === repository);
    const names = tags.length ? tags : [undefined];
    for (const familiar of names) {
      const colon = familiar?.lastIndexOf(':') ?? -1;
      const repository = familiar === undefined ? undefined : familiar.slice(0, colon);
      const own = [...new Set(digestsOf(repository).map((d) => d.slice(d.indexOf('@') + 1)))];
      for (const digest of values.digests ? (own.length ? own : ['']) : [own[0] ?? '']) {
        rows.push({
          Id: image.id,
          Repository: repository ?? '<none>',
          Tag: familiar === undefined ? '<none>' : familiar.slice(colon + 1),
          Digest: digest,
          Created: image.created ?? '',
          Size: image.size,
        });
      }
    }
  }
  if (values.quiet) out([...new Set(rows.map((r) => r.Id.slice(7, 19)))].map((id) => `${id}\n`).join(''));
  else if (format === 'json') out(`${JSON.stringify(rows, null, 2)}\n`);
  else if (values.digests)
    out(
      table(
        ['REPOSITORY', 'TAG', 'DIGEST', 'IMAGE ID', 'CREATED', 'SIZE'],
        rows.map((r) => [r.Repository, r.Tag, r.Digest || '<none>', r.Id.slice(7, 19), timeAgo(r.Created), humanSize(r.Size)]),
      ),
    );
  else
    out(
      table(
        ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
        rows.map((r) => [r.Repository, r.Tag, r.Id.slice(7, 19), timeAgo(r.Created), humanSize(r.Size)]),
      ),
    );
  return 0;
}

export function imageInspect(engine: Engine, argv: Args): number {
  const { positionals } = parse('inspect', argv, { format: { type: 'string' } });
  if (positionals.length === 0) throw new UsageError('inspect: expected an image');
  out(
    `${JSON.stringify(
      positionals.map((p) => engine.inspectImage(p)),
      null,
      4,
    )}\n`,
  );
  return 0;
}

export async function imageRemove(engine: Engine, argv: Args): Promise<number> {
  const { values, positionals } = parse('rmi', argv, { force: { type: 'boolean', short: 'f' } });
  if (positionals.length === 0) throw new UsageError('rmi: expected an image');
  for (const p of positionals) {
    const r = await engine.removeImage(p, Boolean(values.force));
    out(r.untagged.map((u) => `Untagged: ${u}\n`).join('') + r.deleted.map((d) => `Deleted: ${d}\n`).join(''));
  }
  return 0;
}

export async function imageTag(engine: Engine, argv: Args): Promise<number> {
  const { positionals } = parse('tag', argv, {});
  const [source, target] = positionals;
  if (positionals.length !== 2 || source === undefined || target === undefined) throw new UsageError('tag: expected SOURCE and TARGET');
  await engine.tagImage(source, target);
  return 0;
}
