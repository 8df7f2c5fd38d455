import { UserError } from '../../lib/errors.js';
import { familiarName } from '../images/names.js';
import type { ContainerRecord } from './record.js';

/** A container filter of docker's ps (`--filter` of the CLI, `filters` of the API). Status
 * filters also pick stopped containers without --all. */
export type ContainerFilter = ((c: ContainerRecord) => boolean) & { status?: boolean };

export function hasStatusFilter(filters: ContainerFilter[]): boolean {
  return filters.some((f) => f.status);
}

const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** docker's ps filters: id, name, label, status, exited, ancestor. */
export function containerFilter(key: string, value: string): ContainerFilter {
  switch (key) {
    case 'id':
      return (c) => c.Id.startsWith(value);
    case 'name':
      return (c) => c.Name.includes(value.replace(/^\//, ''));
    case 'label': {
      const [k = '', v] = value.split('=', 2);
      return (c) => Object.hasOwn(c.Config.Labels, k) && (v === undefined || c.Config.Labels[k] === v);
    }
    case 'status': {
      if (!STATUSES.includes(value))
        throw new UserError(`filter status must be one of ${STATUSES.join(', ')}, not "${value}"`, { kind: 'invalid', field: 'status' });
      const f: ContainerFilter = (c) => c.State.Status === value;
      f.status = true;
      return f;
    }
    case 'exited': {
      if (!/^\d+$/.test(value))
        throw new UserError(`filter exited needs an exit code, not "${value}"`, { kind: 'invalid', field: 'exited' });
      const f: ContainerFilter = (c) => c.State.Status === 'exited' && c.State.ExitCode === Number(value);
      f.status = true;
      return f;
    }
    case 'ancestor':
      return (c) => c.ImageName === value || familiarName(c.ImageName) === value || c.Image.includes(value);
    case 'network':
      return (c) => c.HostConfig.NetworkMode === value || Object.hasOwn(c.NetworkSettings?.Networks ?? {}, value);
    case 'volume':
      return (c) => c.Mounts.some((m) => m.Name === value || m.Destination === value || m.Source === value);
    default:
      throw new UserError(`unknown filter "${key}" (id, name, label, status, exited, ancestor, network, volume)`, {
        kind: 'invalid',
        field: key,
      });
  }
}
