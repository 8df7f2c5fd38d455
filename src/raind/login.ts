import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from '../lib/errors.js';
import { Engine, type RegistryOptions } from '../condenser/engine.js';
import { out } from './output.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** The registry options every command that talks to a registry takes, as podman spells them. */
export const REGISTRY_OPTIONS: Options = {
  authfile: { type: 'string' },
  'tls-verify': { type: 'string' },
  'cert-dir': { type: 'string' },
};

/** `--tls-verify` alone means true; parseArgs wants a value for a string option. */
export function withFlagValues(argv: string[]): string[] {
  return argv.map((a) => (a === '--tls-verify' ? '--tls-verify=true' : a));
}

/** The engine for this command (another credentials file with --authfile) and the TLS options. */
export function registryEngine(cmd: string, engine: Engine, values: Values): { engine: Engine; opts: RegistryOptions } {
  const opts: RegistryOptions = {};
  const verify = values['tls-verify'] as string | undefined;
  if (verify !== undefined) {
    if (verify !== 'true' && verify !== 'false') throw new UsageError(`${cmd}: --tls-verify must be true or false, not "${verify}"`);
    opts.tlsVerify = verify === 'true';
  }
  if (values['cert-dir'] !== undefined) opts.certsDirs = [values['cert-dir'] as string];
  const authFile = values.authfile as string | undefined;
  return { engine: authFile ? new Engine({ ...engine.opts, authFile }) : engine, opts };
}

function parse(cmd: string, argv: string[], options: Options): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args: withFlagValues(argv), options, allowPositionals: true, strict: true }) as {
      values: Values;
      positionals: string[];
    };
  } catch (e) {
    throw new UsageError(`${cmd}: ${(e as Error).message}`);
  }
}

/** `https://host:port/v2/` as people paste it, to the `host:port` the file is keyed by. */
function registryName(cmd: string, text: string | undefined): string {
  const name = (text ?? '').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (!name) throw new UsageError(`${cmd}: expected a registry (host or host:port)`);
  return name === 'index.docker.io' || name === 'registry-1.docker.io' ? 'docker.io' : name;
}

export async function login(engine: Engine, argv: string[]): Promise<number> {
  const { values, positionals } = parse('login', argv, {
    ...REGISTRY_OPTIONS,
    username: { type: 'string', short: 'u' },
    password: { type: 'string', short: 'p' },
    'password-stdin': { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError('login: expected one registry');
  const registry = registryName('login', positionals[0]);
  const username = values.username as string | undefined;
  if (!username) throw new UsageError('login: no user name (-u USER)');
  if (username.includes(':')) throw new UsageError('login: a user name cannot hold ":"');
  let password = values.password as string | undefined;
  if (values['password-stdin']) {
    if (password !== undefined) throw new UsageError('login: -p and --password-stdin exclude each other');
    password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  }
  if (!password) throw new UsageError('login: no password (-p PASS or --password-stdin)');
  const r = registryEngine('login', engine, values);
  await r.engine.login(registry, { username, password }, r.opts);
  out('Login Succeeded!\n');
  return 0;
}

export function logout(engine: Engine, argv: string[]): number {
  const { values, positionals } = parse('logout', argv, { authfile: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('logout: expected one registry');
  const registry = registryName('logout', positionals[0]);
  registryEngine('logout', engine, values).engine.logout(registry);
  out(`Removed login credentials for ${registry}\n`);
  return 0;
}
