import { UserError } from '../../lib/errors.js';
import type { ImageRunConfig } from '../../oci/image/types.js';

/** Applies Dockerfile instructions given as `--change` (docker import's subset that needs no
 * build: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, STOPSIGNAL, VOLUME) to a run config. */
export function applyChange(config: ImageRunConfig, change: string): void {
  const m = /^\s*([A-Za-z]+)\s+([\s\S]*?)\s*$/.exec(change);
  const bad = (why: string) => new UserError(`change "${change}": ${why}`, { kind: 'invalid' });
  if (!m) throw bad('expected an instruction and its arguments');
  const instruction = (m[1] ?? '').toUpperCase();
  const args = m[2] ?? '';
  switch (instruction) {
    case 'CMD':
      config.Cmd = command(args, bad);
      return;
    case 'ENTRYPOINT':
      config.Entrypoint = command(args, bad);
      return;
    case 'ENV':
      for (const [k, v] of pairs(args, bad)) config.Env = [...(config.Env ?? []).filter((e) => !e.startsWith(`${k}=`)), `${k}=${v}`];
      return;
    case 'LABEL':
      for (const [k, v] of pairs(args, bad)) config.Labels = { ...config.Labels, [k]: v };
      return;
    case 'WORKDIR':
      if (!args.startsWith('/')) throw bad('WORKDIR must be an absolute path');
      config.WorkingDir = args;
      return;
    case 'USER':
      config.User = args;
      return;
    case 'STOPSIGNAL':
      config.StopSignal = args;
      return;
    case 'EXPOSE':
      for (const p of args.split(/\s+/)) {
        if (!/^\d{1,5}(\/(tcp|udp|sctp))?$/.test(p)) throw bad(`"${p}" is no port`);
        config.ExposedPorts = { ...config.ExposedPorts, [p.includes('/') ? p : `${p}/tcp`]: {} };
      }
      return;
    case 'VOLUME':
      for (const path of args.startsWith('[') ? jsonList(args, bad) : args.split(/\s+/)) {
        if (!path.startsWith('/')) throw bad(`VOLUME "${path}" must be an absolute path`);
        config.Volumes = { ...config.Volumes, [path]: {} };
      }
      return;
    default:
      throw bad(`${instruction} is not one of CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, STOPSIGNAL, VOLUME`);
  }
}

/** The JSON form `["a", "b"]`, or the shell form run by /bin/sh -c, as a Dockerfile. */
function command(args: string, bad: (why: string) => UserError): string[] {
  if (!args.startsWith('[')) return ['/bin/sh', '-c', args];
  return jsonList(args, bad);
}

function jsonList(args: string, bad: (why: string) => UserError): string[] {
  let v: unknown;
  try {
    v = JSON.parse(args);
  } catch {
    throw bad('not a JSON list of strings');
  }
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw bad('not a JSON list of strings');
  return v;
}

/** `K=V K2="v 2"`, or the older `K V...` form with one pair. */
function pairs(args: string, bad: (why: string) => UserError): [string, string][] {
  if (!args) throw bad('expected KEY=VALUE');
  const first = args.split(/\s/, 1)[0] ?? '';
  if (!first.includes('=')) {
    const rest = args.slice(first.length).trim();
    return [[first, rest]];
  }
  const out: [string, string][] = [];
  const re = /\s*([^=\s]+)=("((?:[^"\\]|\\.)*)"|(?!")\S*)/y;
  let at = 0;
  while (at < args.length) {
    const m = re.exec(args);
    if (!m) break;
    const [, key = '', raw = '', quoted] = m;
    out.push([key, quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : raw]);
    at = re.lastIndex;
  }
  if (args.slice(at).trim()) throw bad(`cannot read "${args.slice(at).trim()}" as KEY=VALUE`);
  return out;
}
