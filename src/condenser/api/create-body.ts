import type { CreateRequest } from '../containers/merge-config.js';
import { defaultHostConfig } from '../containers/merge-config.js';
import { ApiError } from './http-io.js';

/** The Config fields of a create body and the JSON type each must have. */
const CONFIG_TYPES: Record<string, 'string' | 'boolean' | 'number' | 'strings' | 'object'> = {
  Hostname: 'string',
  Domainname: 'string',
  User: 'string',
  AttachStdin: 'boolean',
  AttachStdout: 'boolean',
  AttachStderr: 'boolean',
  ExposedPorts: 'object',
  Tty: 'boolean',
  OpenStdin: 'boolean',
  StdinOnce: 'boolean',
  Env: 'strings',
  Cmd: 'strings',
  Image: 'string',
  Volumes: 'object',
  WorkingDir: 'string',
  Entrypoint: 'strings',
  Labels: 'object',
  StopSignal: 'string',
  StopTimeout: 'number',
};

/** Network modes docker's clients send for "the default network". */
const DEFAULT_NETWORK_MODES = new Set(['', 'default', 'bridge']);

/** docker's create body (`Config` fields at the top, `HostConfig`, `NetworkingConfig`) as the
 * engine's request. Fields the engine does not use are dropped; a field it uses with the wrong
 * JSON type is a 400 naming it; null means unset, as docker's clients send it. */
export function createRequestOf(body: Record<string, unknown>, name: string | null): CreateRequest {
  const config: Record<string, unknown> = {};
  for (const [key, type] of Object.entries(CONFIG_TYPES)) {
    let value = body[key];
    if (value === undefined || value === null) continue;
    /* docker's older clients send a command as one string */
    if (type === 'strings' && typeof value === 'string' && (key === 'Cmd' || key === 'Entrypoint')) value = [value];
    checkType(key, value, type);
    if (type === 'strings' && (value as unknown[]).some((item) => typeof item !== 'string'))
      throw new ApiError(400, `${key}: must be a list of strings`);
    config[key] = value;
  }
  if (typeof config.Image !== 'string' || config.Image === '') throw new ApiError(400, 'Image: the create body names no image');
  const request: CreateRequest = { Config: config as CreateRequest['Config'] };
  if (name) request.name = name;
  if (body.HostConfig !== undefined && body.HostConfig !== null) request.HostConfig = hostConfigOf(body.HostConfig);
  const networking = body.NetworkingConfig;
  if (networking !== undefined && networking !== null) {
    checkType('NetworkingConfig', networking, 'object');
    request.NetworkingConfig = networking as CreateRequest['NetworkingConfig'];
  }
  return request;
}

function hostConfigOf(value: unknown): NonNullable<CreateRequest['HostConfig']> {
  checkType('HostConfig', value, 'object');
  const given = value as Record<string, unknown>;
  const defaults = defaultHostConfig() as unknown as Record<string, unknown>;
  const optional: Record<string, 'strings' | 'boolean' | 'object'> = {
    Dns: 'strings',
    ExtraHosts: 'strings',
    PublishAllPorts: 'boolean',
    ConsoleSize: 'strings',
  };
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(given)) {
    if (v === undefined || v === null) continue;
    const fallback = defaults[key];
    if (fallback === undefined && !Object.hasOwn(optional, key)) continue;
    if (key === 'ConsoleSize') {
      if (!Array.isArray(v) || v.length !== 2 || v.some((n) => typeof n !== 'number'))
        throw new ApiError(400, 'HostConfig.ConsoleSize: must be [height, width]');
      /* docker's CLI sends [0, 0] without a terminal */
      if (v[0] !== 0 || v[1] !== 0) out[key] = v;
      continue;
    }
    const type = fallback === undefined ? optional[key]! : typeOf(fallback);
    checkType(`HostConfig.${key}`, v, type);
    out[key] = v;
  }
  if (typeof out.NetworkMode === 'string' && DEFAULT_NETWORK_MODES.has(out.NetworkMode)) delete out.NetworkMode;
  if (out.Runtime === '') delete out.Runtime;
  if (out.RestartPolicy && (out.RestartPolicy as { Name?: string }).Name === '') delete out.RestartPolicy;
  return out;
}

function typeOf(value: unknown): 'string' | 'boolean' | 'number' | 'strings' | 'object' {
  if (Array.isArray(value)) return 'strings';
  return typeof value as 'string' | 'boolean' | 'number' | 'object';
}

/** "strings" is any JSON array here: the engine checks the items of the lists it reads. */
function checkType(field: string, value: unknown, type: string): void {
  const ok =
    type === 'strings'
      ? Array.isArray(value)
      : type === 'object'
        ? value !== null && typeof value === 'object' && !Array.isArray(value)
        : typeof value === type;
  if (!ok) throw new ApiError(400, `${field}: must be ${type === 'strings' ? 'a list' : type === 'object' ? 'an object' : `a ${type}`}`);
}
