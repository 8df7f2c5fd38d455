import type { HistoryEntry, ImageInspect, ImageRecord } from '../../engine.js';
import { familiarName } from '../../images/names.js';

/** unix seconds of an RFC 3339 time; 0 when there is none, as docker shows an unknown time */
export function unixTime(text: string | undefined): number {
  const t = text === undefined ? Number.NaN : Date.parse(text);
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

/** An image as docker's `GET /images/json` lists it (ImageSummary). `containers` and
 * `shared` are -1 where docker leaves them uncounted (the list; system df counts them). */
export function imageSummary(image: ImageRecord, inspect: ImageInspect, containers = -1, shared = -1): object {
  return {
    Id: image.id,
    ParentId: '',
    RepoTags: image.repoTags.map(familiarName),
    RepoDigests: image.repoDigests.map(familiarName),
    Created: unixTime(inspect.Created ?? image.created),
    Size: image.size,
    SharedSize: shared,
    VirtualSize: image.size,
    Labels: inspect.Config?.Labels ?? {},
    Containers: containers,
  };
}

/** `GET /images/{name}/json`: the engine's inspect, with the fields docker's has besides. */
export function imageInspectView(i: ImageInspect): object {
  return {
    Id: i.Id,
    RepoTags: i.RepoTags,
    RepoDigests: i.RepoDigests,
    Parent: '',
    Comment: '',
    Created: i.Created ?? '0001-01-01T00:00:00Z',
    DockerVersion: '',
    Author: i.Author ?? '',
    Config: i.Config,
    Architecture: i.Architecture,
    ...(i.Variant ? { Variant: i.Variant } : {}),
    Os: i.Os,
    Size: i.Size,
    VirtualSize: i.Size,
    GraphDriver: { Name: 'overlay', Data: null },
    RootFS: i.RootFS,
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}

/** `GET /images/{name}/history`: times as unix seconds, tags in the familiar form, and null
 * where a step has none (docker's). */
export function historyView(h: HistoryEntry): object {
  return {
    Id: h.Id,
    Created: unixTime(h.Created),
    CreatedBy: h.CreatedBy,
    Tags: h.Tags.length ? h.Tags.map(familiarName) : null,
    Size: h.Size,
    Comment: h.Comment,
  };
}
