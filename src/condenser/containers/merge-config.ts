import { UserError } from '../../lib/errors.js';
import type { ImageRunConfig } from '../../oci/image/types.js';
import type { ContainerConfig, HostConfig } from './record.js';

/** What a caller asks for: docker's create body (the CLI builds it from flags, the API
 * takes it as sent). Unset fields take the image's or docker's defaults. */
export interface CreateRequest {
  name?: string;
  Config: Partial<ContainerConfig> & { Image: string };
  HostConfig?: Partial<HostConfig>;
  /** docker's per-network settings of the create body: the aliases on the network */
  NetworkingConfig?: { EndpointsConfig?: Record<string, { Aliases?: string[]; IPAMConfig?: { IPv4Address?: string } }> };
}

export function defaultHostConfig(): HostConfig {
  return {
    Binds: [],
    Mounts: [],
    Tmpfs: {},
    NetworkMode: 'raind',
    PortBindings: {},
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: false,
    CapAdd: [],
    CapDrop: [],
    Privileged: false,
    ReadonlyRootfs: false,
    SecurityOpt: [],
    Memory: 0,
    MemorySwap: 0,
    NanoCpus: 0,
    CpuShares: 0,
    PidsLimit: 0,
    Ulimits: [],
    Init: false,
    Runtime: 'droplet',
  };
}

/** docker's merge of the image's defaults with the request: an entrypoint given drops the
 * image's command; env entries given replace the image's of the same name. */
export function mergeConfig(request: CreateRequest, image: ImageRunConfig, id: string): ContainerConfig {
  const c = request.Config;
  const entrypointGiven = c.Entrypoint !== undefined && c.Entrypoint !== null;
  /* --entrypoint "" clears the image's */
  const given = c.Entrypoint ?? [];
  const entrypoint = entrypointGiven ? (given.length === 1 && given[0] === '' ? [] : given) : (image.Entrypoint ?? null);
  const cmd = c.Cmd && c.Cmd.length > 0 ? c.Cmd : entrypointGiven ? [] : (image.Cmd ?? []);
  if ((entrypoint ?? []).length + cmd.length === 0)
    throw new UserError('no command specified: the image has no Cmd or Entrypoint, and none was given', { kind: 'invalid', field: 'Cmd' });
  const env = new Map<string, string>();
  for (const e of [...(image.Env ?? []), ...(c.Env ?? [])]) {
    const eq = e.indexOf('=');
    env.set(eq < 0 ? e : e.slice(0, eq), e);
  }
  return {
    Hostname: c.Hostname || id,
    Domainname: c.Domainname ?? '',
    User: c.User || image.User || '',
    AttachStdin: c.AttachStdin ?? false,
    AttachStdout: c.AttachStdout ?? false,
    AttachStderr: c.AttachStderr ?? false,
    ExposedPorts: { ...(image.ExposedPorts ?? {}), ...(c.ExposedPorts ?? {}) },
    Tty: c.Tty ?? false,
    OpenStdin: c.OpenStdin ?? false,
    StdinOnce: c.StdinOnce ?? false,
    Env: [...env.values()],
    Cmd: cmd,
    Image: c.Image,
    Volumes: { ...(image.Volumes ?? {}), ...(c.Volumes ?? {}) },
    WorkingDir: c.WorkingDir || image.WorkingDir || '',
    Entrypoint: entrypoint && entrypoint.length > 0 ? entrypoint : null,
    Labels: { ...(image.Labels ?? {}), ...(c.Labels ?? {}) },
    StopSignal: c.StopSignal || image.StopSignal || 'SIGTERM',
    ...(c.StopTimeout !== undefined ? { StopTimeout: c.StopTimeout } : {}),
  };
}
