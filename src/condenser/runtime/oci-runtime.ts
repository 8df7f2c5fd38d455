import { type SpawnSyncOptions, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { UserError } from '../../lib/errors.js';
import { findInPath, ownExecutable } from '../../lib/executables.js';

export const RUNTIMES = ['droplet', 'runc', 'crun'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

/** An OCI runtime driven through its command line, as podman and containerd drive runc:
 * the engine never imports droplet's modules. droplet keeps its state in the container's
 * own directory (`--root <root>/containers`, the seed's layout); runc and crun, which make
 * their state directory themselves, get one under the run root. */
export class OciRuntime {
  readonly path: string;
  readonly root: string;

  constructor(
    readonly name: RuntimeName,
    stateRoot: string,
    runRoot: string,
  ) {
    if (name === 'droplet') {
      this.path = ownExecutable('droplet');
      this.root = stateRoot;
    } else {
      const found = findInPath(name);
      if (!found)
        throw new UserError(`--runtime ${name}: ${name} is not installed (not found in PATH)`, { kind: 'invalid', field: 'runtime' });
      this.path = found;
      this.root = join(runRoot, 'runtimes', name);
    }
  }

  /** The arguments every call starts with. */
  get globalArgs(): string[] {
    return [`--root=${this.root}`];
  }

  /** Runs one command and returns its stdout; a failure is the runtime's last error line. */
  run(args: string[], what: string, opts: SpawnSyncOptions = {}): string {
    const r = spawnSync(this.path, [...this.globalArgs, ...args], { encoding: 'utf8', ...opts });
    if (r.error) throw new UserError(`${what}: ${this.name}: ${r.error.message}`);
    if (r.status !== 0) {
      const line =
        String(r.stderr ?? '')
          .trim()
          .split('\n')
          .pop() || `exited with ${r.status ?? r.signal}`;
      throw new UserError(`${what}: ${line.replace(/^(droplet|runc|crun): /, '').replace(/^time="[^"]*" level=error msg="(.*)"$/, '$1')}`);
    }
    return String(r.stdout ?? '');
  }

  start(id: string): void {
    this.run(['start', id], `start ${id}`);
  }

  kill(id: string, signal: string | number, all = false): void {
    this.run(['kill', ...(all ? ['--all'] : []), id, String(signal)], `kill ${id}`);
  }

  /** delete --force: ends what is left and removes the runtime's state; nothing there is
   * no error. */
  delete(id: string): void {
    const r = spawnSync(this.path, [...this.globalArgs, 'delete', '--force', id], { encoding: 'utf8' });
    if (r.status === 0 || /does not exist|not found|no such/i.test(r.stderr ?? '')) return;
    const line =
      String(r.stderr ?? '')
        .trim()
        .split('\n')
        .pop() || `exited with ${r.status ?? r.signal}`;
    throw new UserError(`remove ${id} from ${this.name}: ${line}`);
  }

  pause(id: string): void {
    this.run(['pause', id], `pause ${id}`);
  }

  resume(id: string): void {
    this.run(['resume', id], `unpause ${id}`);
  }

  /** The runtime's state of the container: undefined when it has none. */
  state(id: string): { status: string; pid: number } | undefined {
    const r = spawnSync(this.path, [...this.globalArgs, 'state', id], { encoding: 'utf8' });
    if (r.status !== 0) return undefined;
    try {
      return JSON.parse(r.stdout) as { status: string; pid: number };
    } catch {
      return undefined;
    }
  }

  /** The pids of the container's processes, as the host sees them. */
  pids(id: string): number[] {
    const out = this.run(['ps', '--format', 'json', id], `list the processes of ${id}`);
    return (JSON.parse(out) as number[]).filter((p) => Number.isInteger(p));
  }

  /** The data of runc's stats event (`events --stats`), which droplet, runc and crun print;
   * undefined when the container is not running. */
  stats(id: string): unknown {
    const r = spawnSync(this.path, [...this.globalArgs, 'events', '--stats', id], { encoding: 'utf8' });
    if (r.status !== 0) return undefined;
    const line = String(r.stdout ?? '')
      .split('\n')
      .find((l) => l.trim().startsWith('{'));
    try {
      return line === undefined ? undefined : (JSON.parse(line) as { data?: unknown }).data;
    } catch {
      return undefined;
    }
  }
}
