import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testEnv } from './droplet.js';
import { processesWith } from './leaks.js';
import { RAIND } from './raind.js';

export const BUSYBOX_IMAGE = 'test/busybox:1';

export interface RaindResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A raind with a store and run root of its own under a temp dir, holding a busybox-static
 * image (every applet linked, PATH=/bin). `wrap` runs each raind inside another command
 * (e.g. nsenter into a mount namespace). */
export class RaindEnv {
  readonly dir: string;
  readonly root: string;
  readonly runRoot: string;
  /** the working directory every raind runs in: what lands there is a bug */
  readonly cwd: string;

  constructor(
    prefix: string,
    readonly wrap: string[] = [],
  ) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    this.root = join(this.dir, 'root');
    this.runRoot = join(this.dir, 'run');
    this.cwd = join(this.dir, 'cwd');
    mkdirSync(this.cwd);
    const rootfs = join(this.dir, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    mkdirSync(join(rootfs, 'tmp'), { mode: 0o1777 });
    mkdirSync(join(rootfs, 'etc'));
    writeFileSync(join(rootfs, 'bin/busybox'), readFileSync('/bin/busybox'), { mode: 0o755 });
    for (const applet of execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n')) {
      if (applet !== '' && applet !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', applet));
    }
    const tar = join(this.dir, 'rootfs.tar');
    execFileSync('tar', ['-cf', tar, '-C', rootfs, '.']);
    this.ok(['import', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/bin', tar, BUSYBOX_IMAGE]);
  }

  argv(args: string[]): string[] {
    return [...this.wrap, RAIND, '--root', this.root, '--runroot', this.runRoot, ...args];
  }

  run(args: string[], timeout = 120_000): RaindResult {
    const [cmd = RAIND, ...rest] = this.argv(args);
    const r = spawnSync(cmd, rest, { cwd: this.cwd, encoding: 'utf8', env: testEnv(), timeout, stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  ok(args: string[], timeout?: number): RaindResult {
    const r = this.run(args, timeout);
    if (r.code !== 0) throw new Error(`raind ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r;
  }

  /** Like run, without blocking the event loop: for commands run side by side. */
  runAsync(args: string[]): Promise<RaindResult> {
    const [cmd = RAIND, ...rest] = this.argv(args);
    return new Promise((resolve) => {
      const child = spawn(cmd, rest, { cwd: this.cwd, env: testEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  inspect(name: string): ContainerInfo {
    const [info] = JSON.parse(this.ok(['inspect', name]).stdout) as ContainerInfo[];
    if (!info) throw new Error(`inspect ${name}: nothing`);
    return info;
  }

  /** The ids of every container, created, running or exited. */
  ids(): string[] {
    return this.ok(['ps', '-aq', '--no-trunc'])
      .stdout.split('\n')
      .filter((l) => l !== '');
  }

  /** rm -f of every container, then the temp dir. */
  destroy(): void {
    const ids = existsSync(this.root)
      ? this.run(['ps', '-aq', '--no-trunc'])
          .stdout.split('\n')
          .filter((l) => l !== '')
      : [];
    if (ids.length > 0) this.run(['rm', '-f', ...ids]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Everything a container could leave on the host once removed: its directories, its
   * name's link, a mount under the store, a cgroup, a process naming it (conmon, the
   * runtime's init). `mountTable` is the mountinfo to look in (another namespace's). */
  leftovers(id: string, name?: string, mountTable = '/proc/self/mountinfo'): string[] {
    const found: string[] = [];
    for (const d of [join(this.root, 'containers', id), join(this.runRoot, 'containers', id)])
      if (existsSync(d)) found.push(`directory ${d}`);
    if (name !== undefined && linkExists(join(this.root, 'names', name))) found.push(`name link ${name}`);
    for (const line of readFileSync(mountTable, 'utf8').split('\n')) {
      const point = line.split(' ')[4];
      if (point?.startsWith(`${this.dir}/`) && point.includes(id)) found.push(`mount ${point}`);
    }
    for (const h of readdirSync('/sys/fs/cgroup')) {
      const d = join('/sys/fs/cgroup', h, 'raind', id);
      if (existsSync(d)) found.push(`cgroup ${d}`);
    }
    for (const p of processesWith(id)) found.push(`process ${p} (${readFileSafe(`/proc/${p}/cmdline`).replace(/\0/g, ' ').trim()})`);
    return found;
  }
}

/** What is in the store's container, run and name directories: empty once every container
 * is removed. */
export function storeEntries(env: RaindEnv): string[] {
  const out: string[] = [];
  for (const d of [join(env.root, 'containers'), join(env.runRoot, 'containers'), join(env.root, 'names')]) {
    if (existsSync(d)) for (const e of readdirSync(d)) out.push(join(d, e));
  }
  return out;
}

export interface ContainerInfo {
  Id: string;
  Name: string;
  RestartCount: number;
  State: { Status: string; Running: boolean; Pid: number; ExitCode: number; OOMKilled: boolean };
}

/** Waits until nothing of the container is left: conmon ends a moment after rm, once the
 * exit command it waits for has found the container gone. Fails naming what is left. */
export async function assertGone(env: RaindEnv, id: string, name?: string, mountTable?: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const left = env.leftovers(id, name, mountTable);
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`left behind by ${id}: ${left.join('; ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls until cond holds (async: raind's children keep running meanwhile). */
export async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function linkExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
