import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError, reason } from '../../lib/errors.js';
import { parseExactJson } from '../../lib/exact-json.js';
import { asObject } from '../../lib/json-reader.js';
import type { Process } from '../../oci/spec.js';
import { readProcess } from '../../oci/validate.js';
import { containerForExec, execProcess } from '../container/exec.js';
import { checkLsmLabels } from '../host-checks.js';
import type { Context } from '../container/lifecycle.js';
import { proxyTerminal } from '../../lib/terminal-proxy.js';

const OPTIONS = {
  process: { type: 'string', short: 'p' },
  tty: { type: 'boolean', short: 't' },
  'console-socket': { type: 'string' },
  detach: { type: 'boolean', short: 'd' },
  'pid-file': { type: 'string' },
  cwd: { type: 'string' },
  env: { type: 'string', short: 'e', multiple: true },
  user: { type: 'string', short: 'u' },
  'additional-gids': { type: 'string', short: 'g', multiple: true },
  cap: { type: 'string', short: 'c', multiple: true },
  'no-new-privs': { type: 'boolean' },
  apparmor: { type: 'string' },
  'process-label': { type: 'string' },
  'preserve-fds': { type: 'string' },
  'ignore-paused': { type: 'boolean' },
} as const;

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGCONT'];

/** As runc: options come before the container id; everything after the id is the command. */
function splitAtId(argv: string[]): { options: string[]; id?: string; command: string[] } {
  const withValue = new Set(
    Object.entries(OPTIONS).flatMap(([name, o]) => (o.type === 'string' ? [`--${name}`, ...('short' in o ? [`-${o.short}`] : [])] : [])),
  );
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!; // i < argv.length
    if (a === '--') return { options: argv.slice(0, i), id: argv[i + 1], command: argv.slice(i + 2) };
    if (!a.startsWith('-') || a === '-') return { options: argv.slice(0, i), id: a, command: argv.slice(i + 1) };
    if (withValue.has(a)) i++;
  }
  return { options: argv, command: [] };
}

/** The container id in exec's arguments. */
export function execIdOf(argv: string[]): string | undefined {
  return splitAtId(argv).id;
}

const int = (text: string, what: string) => {
  if (!/^\d+$/.test(text)) throw new UsageError(`exec: ${what} must be a number, not "${text}"`);
  return Number(text);
};

function parseOptions(options: string[]) {
  try {
    return parseArgs({ args: options, options: OPTIONS, strict: true }).values;
  } catch (err) {
    throw new UsageError(`exec: ${(err as Error).message.split('\n')[0]}`);
  }
}

export async function exec(ctx: Context, argv: string[]): Promise<number> {
  const split = splitAtId(argv);
  const values = parseOptions(split.options);
  const id = split.id;
  if (!id) throw new UsageError('exec: a container id is required');
  const preserveFds = int(values['preserve-fds'] ?? '0', '--preserve-fds');
  const { state, config } = containerForExec(ctx, id, values['ignore-paused'] ?? false);

  let proc: Process;
  if (values.process) {
    if (split.command.length) throw new UsageError('exec: give the command in --process or on the command line, not both');
    let raw: unknown;
    try {
      raw = parseExactJson(readFileSync(values.process, 'utf8'));
    } catch (err) {
      throw new UsageError(`exec: --process ${values.process}: ${reason(err)}`);
    }
    proc = readProcess({ process: asObject(raw, 'process') });
    checkLsmLabels(proc);
  } else {
    if (split.command.length === 0) throw new UsageError('exec: a command is required');
    proc = structuredClone(config.process);
    proc.args = split.command;
    proc.terminal = values.tty ?? false;
    delete proc.consoleSize;
  }
  /* The command line refines either process */
  if (values.tty !== undefined) proc.terminal = values.tty;
  if (values.cwd) proc.cwd = values.cwd;
  for (const e of values.env ?? []) {
    if (!e.includes('=')) throw new UsageError(`exec: --env "${e}" is not KEY=VALUE`);
    const key = e.slice(0, e.indexOf('='));
    proc.env = [...proc.env.filter((x) => !x.startsWith(`${key}=`)), e];
  }
  if (values.user) {
    // split() returns at least one part
    const [uid = '', gid] = values.user.split(':');
    proc.user = { ...proc.user, uid: int(uid, '--user'), gid: gid === undefined ? proc.user.gid : int(gid, '--user') };
  }
  if (values['additional-gids']) proc.user.additionalGids = values['additional-gids'].map((g) => int(g, '--additional-gids'));
  if (values.cap?.length) {
    const caps = proc.capabilities ?? { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] };
    for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const)
      caps[set] = [...new Set([...caps[set], ...values.cap])];
    proc.capabilities = caps;
  }
  if (values['no-new-privs']) proc.noNewPrivileges = true;
  /* the same checks as the config's fields: refused where the LSM is absent */
  if (values.apparmor || values['process-label']) {
    const lsm = readProcess({
      process: { args: ['x'], cwd: '/', apparmorProfile: values.apparmor, selinuxLabel: values['process-label'] },
    });
    checkLsmLabels(lsm);
    proc.apparmorProfile = lsm.apparmorProfile ?? proc.apparmorProfile;
    proc.selinuxLabel = lsm.selinuxLabel ?? proc.selinuxLabel;
  }

  const detach = values.detach ?? false;
  /* relayed from this terminal: the command starts on one of its size, before it can ask */
  const out = process.stdout;
  if (proc.terminal && !detach && !values['console-socket'] && proc.consoleSize === undefined && out.isTTY && out.rows && out.columns)
    proc.consoleSize = { height: out.rows, width: out.columns };
  const child = execProcess(ctx, id, state, config, proc, {
    detach,
    pidFile: values['pid-file'],
    consoleSocket: values['console-socket'],
    preserveFds,
    ignorePaused: values['ignore-paused'] ?? false,
  });
  if (detach) return 0;
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  for (const sig of FORWARDED) process.on(sig, forward);
  const terminal = child.consoleMaster === undefined ? undefined : proxyTerminal(child.consoleMaster);
  const code = await child.waitExit();
  if (terminal) {
    await terminal.done;
    terminal.restore();
  }
  for (const sig of FORWARDED) process.off(sig, forward);
  return code;
}
