import { statSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';
import { UserError } from '../../lib/errors.js';
import type { OciMount } from './oci-config.js';
import type { VolumeRequest } from '../volumes/volumes.js';
import type { ContainerRecord, HostConfig, MountPoint, MountSpec } from './record.js';

/** The engine's volumes, as containers use them (condenser/volumes implements it). */
export interface VolumeResolver {
  /** the volume's directory on the host, made if missing (`created`), filled from the image
   * by copy-up when asked and empty */
  mountSource(req: VolumeRequest): { path: string; created: boolean };
  /** removes those of the volumes no container uses */
  removeIfUnused(names: string[]): void;
}

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
  let noCopy = false;
  for (const o of options) {
    if (o === 'ro') readOnly = true;
    else if (o === 'rw') readOnly = false;
    else if (['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'].includes(o)) propagation = o;
    else if (o === 'nocopy') noCopy = true;
    else if (o === 'z' || o === 'Z') continue;
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
    ...(noCopy ? { VolumeOptions: { NoCopy: true } } : {}),
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

/** The requested mounts and, as docker, an anonymous volume at each of the image's VOLUMEs
 * that no requested mount covers. Anonymous volumes have no source yet: create names them. */
export function withImageVolumes(specs: MountSpec[], imageVolumes: Record<string, object> = {}): MountSpec[] {
  const targets = new Set(specs.map((m) => m.Target));
  const out = [...specs];
  for (const path of Object.keys(imageVolumes)) {
    if (!isAbsolute(path))
      throw new UserError(`the image's VOLUME "${path}" is not an absolute path`, { kind: 'invalid', field: 'Volumes' });
    const target = normalize(path);
    if (targets.has(target)) continue;
    targets.add(target);
    out.push({ Type: 'volume', Source: '', Target: target, ReadOnly: false });
  }
  return out;
}

/** Every mount of a container, its anonymous volumes named as its create chose. */
export function containerMounts(record: ContainerRecord): MountSpec[] {
  const anonymous = record.AnonymousVolumes ?? {};
  return withImageVolumes(requestedMounts(record.HostConfig), record.Config.Volumes).map((m) =>
    m.Type === 'volume' && m.Source === '' ? { ...m, Source: anonymous[m.Target] ?? '' } : m,
  );
}

/** The volumes a container uses: those it mounted, and those it will mount. */
export function volumesOf(record: ContainerRecord): string[] {
  const names = new Set<string>(Object.values(record.AnonymousVolumes ?? {}));
  for (const m of record.Mounts) if (m.Type === 'volume' && m.Name) names.add(m.Name);
  for (const m of record.HostConfig.Binds.map(parseBind)) if (m.Type === 'volume' && m.Source) names.add(m.Source);
  for (const m of record.HostConfig.Mounts) if (m.Type === 'volume' && m.Source) names.add(m.Source);
  return [...names];
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
export function ociMounts(specs: MountSpec[], volumeSource: (m: MountSpec) => string): { oci: OciMount[]; points: MountPoint[] } {
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
      source = volumeSource(m);
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
      ...(name !== undefined ? { Name: name, Driver: 'local' } : {}),
      Source: source,
      Destination: m.Target,
      Mode: m.ReadOnly ? 'ro' : '',
      RW: !m.ReadOnly,
      Propagation: propagation,
    });
  }
  return { oci, points };
}
