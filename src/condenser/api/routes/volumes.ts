import type { VolumeInspect } from '../../volumes/record.js';
import { ApiError, readJson, sendJson, sendNoContent } from '../http-io.js';
import { type ApiRequest, queryBool, queryFilters } from '../request.js';
import type { Router } from '../router.js';
import { labelFilter, optional, stringMap } from './body-fields.js';

/** The volume endpoints: list, inspect, create, remove, prune (docker's `local` driver). */
export function volumeRoutes(router: Router): void {
  router.get('/volumes', listVolumes);
  router.get('/volumes/{name}', (r) => sendJson(r.res, 200, r.engine.volumes.inspect(r.params.name ?? '')));
  router.post('/volumes/create', createVolume);
  router.delete('/volumes/{name}', (r) => {
    const name = r.params.name ?? '';
    /* force: a missing volume is no error; one in use still is (docker's rule) */
    if (!queryBool(r, 'force')) r.engine.volumes.inspect(name);
    r.engine.volumes.remove(name, queryBool(r, 'force'));
    sendNoContent(r.res);
  });
  router.post('/volumes/prune', (r) => {
    const filters = queryFilters(r);
    for (const key of Object.keys(filters))
      if (key !== 'all') throw new ApiError(400, `invalid filter '${key}': volume prune takes the filter all`);
    const all = (filters.all ?? []).some((v) => v === 'true' || v === '1');
    const result = r.engine.volumes.prune(all);
    sendJson(r.res, 200, { VolumesDeleted: result.deleted, SpaceReclaimed: result.reclaimed });
  });
}

function listVolumes(r: ApiRequest): void {
  const tests: ((v: VolumeInspect, used: boolean) => boolean)[] = [];
  for (const [key, values] of Object.entries(queryFilters(r))) {
    const alternatives = values.map((value): ((v: VolumeInspect, used: boolean) => boolean) => {
      switch (key) {
        case 'name':
          return (v) => v.Name.includes(value);
        case 'label':
          return (v) => labelFilter(value)(v.Labels);
        case 'driver':
          return (v) => v.Driver === value;
        case 'dangling': {
          if (!['true', 'false', '1', '0'].includes(value)) throw new ApiError(400, `invalid filter 'dangling=${value}' (true or false)`);
          const dangling = value === 'true' || value === '1';
          return (_, used) => used !== dangling;
        }
        default:
          throw new ApiError(400, `invalid filter '${key}' (name, label, driver, dangling)`);
      }
    });
    /* docker: the values of a key are alternatives, but labels must all be there */
    tests.push((v, used) => (key === 'label' ? alternatives.every((t) => t(v, used)) : alternatives.some((t) => t(v, used))));
  }
  const users = tests.length ? r.engine.volumes.usersByVolume() : new Map<string, unknown>();
  const volumes = r.engine.volumes.list().filter((v) => tests.every((t) => t(v, users.has(v.Name))));
  sendJson(r.res, 200, { Volumes: volumes, Warnings: [] });
}

async function createVolume(r: ApiRequest): Promise<void> {
  const body = await readJson<Record<string, unknown>>(r.req);
  const name = optional(body, 'Name', 'string');
  const driver = optional(body, 'Driver', 'string');
  if (driver && driver !== 'local') throw new ApiError(400, `Driver: only the local volume driver is available, not "${driver}"`);
  const labels = stringMap(body, 'Labels');
  const opts = stringMap(body, 'DriverOpts');
  if (Object.keys(opts).length)
    throw new ApiError(400, `DriverOpts: the local driver here takes no options (${Object.keys(opts).join(', ')})`);
  const volume = r.engine.volumes.create(name, { labels });
  r.target = volume.Name;
  sendJson(r.res, 201, volume);
}
