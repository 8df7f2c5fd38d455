import { statSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';
import { UserError } from '../../lib/errors.js';
import type { OciMount } from './oci-config.js';
import type { HostConfig, MountPoint, MountSpec } from './record.js';

/** A named volume's directory on the host, made (and filled from the image) on first use. */
export type VolumeResolver = (name: string, target: string) => string;

/** docker's -v forms: `/host:/ctr[:opts]` (a bind), `name:/ctr[:opts]` (a named volume),
 * `/ctr` (an anonymous volume). Options: ro, rw, and a propagation. */
export function parseBind(text: string): MountSpec {
  const parts = text.split(':');
  const bad = (why: string) => new UserError(`-v ${text}: ${why}`, { kind: 'invalid', field: 'Binds' });
  if (parts.length > 3 || parts.some((p) => p === '')) throw bad('use SOURCE:TARGET[:OPTIONS]');
  let source = '';
  let target: string;
  let options: string[] = [];
  if (parts.length === 1) target = parts[0] ?? '';
  else {
    source = parts[0] ?? '';
    target = parts[1] ?? '';
    options = parts[2]?.split(',') ?? [];
  }
  if (!isAbsolute(target)) throw bad(`the target "${target}" must be an absolute path`);
  let readOnly = false;
  let propagation: string | undefined;
  for (const o of options) {
    if (o === 'ro') readOnly = true;
    else if (o === 'rw') readOnly = false;
    else if (['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'].includes(o)) propagation = o;
    else if (o === 'z' || o === 'Z' || o === 'nocopy') continue;
    else throw bad(`unknown option "${o}"`);
  }
  const type = source === '' || !isAbsolute(source) ? 'volume' : 'bind';
  if (type === 'volume' && source !== '' && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(source))
    throw bad(`"${source}" is neither an absolute path nor a volume name`);
  return {
    Type: type,
    Source: source,
    Target: normalize(target),
    ReadOnly: readOnly,
    ...(propagation ? { BindOptions: { Propagation: propagation } } : {}),
  };
}

/** Every mount a container asks for, in the order docker applies them. */
export function requestedMounts(host: HostConfig): MountSpec[] {
  const mounts = [...host.Binds.map(parseBind), ...host.Mounts];
  for (const [target, options] of Object.entries(host.Tmpfs)) mounts.push(parseTmpfs(target, options));
  const seen = new Set<string>();
  for (const m of mounts) {
    if (seen.has(m.Target)) throw new UserError(`duplicate mount point: ${m.Target}`, { kind: 'invalid', field: 'Mounts' });
    seen.add(m.Target);
  }
  return mounts;
}

function parseTmpfs(target: string, options: string): MountSpec {
  if (!isAbsolute(target))
    throw new UserError(`--tmpfs ${target}: the target must be an absolute path`, { kind: 'invalid', field: 'Tmpfs' });
  const spec: MountSpec = { Type: 'tmpfs', Source: '', Target: normalize(target), ReadOnly: false, TmpfsOptions: { Options: options } };
  for (const o of options.split(',').filter(Boolean)) {
    if (o === 'ro') spec.ReadOnly = true;
    else if (o === 'rw') spec.ReadOnly = false;
  }
  return spec;
}

/** The OCI mounts of the requested mounts, checked against the host: a bind's source must
 * exist (docker's -v would make it; a missing one is more often a typo, and podman refuses
 * it too). Also what inspect shows of them. */
export function ociMounts(specs: MountSpec[], volumes: VolumeResolver): { oci: OciMount[]; points: MountPoint[] } {
  const oci: OciMount[] = [];
  const points: MountPoint[] = [];
  for (const m of specs) {
    if (m.Type === 'tmpfs') {
      const raw = m.TmpfsOptions?.Options ?? '';
      const extra = raw.split(',').filter((o) => o && o !== 'ro' && o !== 'rw');
      oci.push({
        destination: m.Target,
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'nodev', 'noexec', ...(m.ReadOnly ? ['ro'] : []), ...extra],
      });
      points.push({ Type: 'tmpfs', Source: '', Destination: m.Target, Mode: raw, RW: !m.ReadOnly, Propagation: '' });
      continue;
    }
    let source = m.Source;
    let name: string | undefined;
    if (m.Type === 'volume') {
      name = m.Source;
      source = volumes(m.Source, m.Target);
    } else {
      try {
        statSync(source);
      } catch {
        throw new UserError(`bind source path does not exist: ${source}`, { kind: 'invalid', field: 'Binds' });
      }
    }
    const propagation = m.BindOptions?.Propagation ?? 'rprivate';
    oci.push({ destination: m.Target, type: 'bind', source, options: ['rbind', propagation, ...(m.ReadOnly ? ['ro'] : [])] });
    points.push({
      Type: m.Type,
      ...(name !== undefined ? { Name: name } : {}),
      Source: source,
      Destination: m.Target,
      Mode: m.ReadOnly ? 'ro' : '',
      RW: !m.ReadOnly,
      Propagation: propagation,
    });
  }
  return { oci, points };
}
