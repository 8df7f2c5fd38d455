import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRootfs } from './bundle.js';
import { type Result, testEnv } from './droplet.js';
import { containerProcessesUnder, describeProcesses, killContainerProcesses, mountsUnder, processesWith } from './leaks.js';
import { RAIND } from './raind.js';

/** An engine of a test's own: a temporary --root and --runroot. */
export interface TestEngine {
  dir: string;
  root: string;
  runRoot: string;
  /** raind with this engine's roots */
  run(args: string[], opts?: { input?: string | Buffer; timeout?: number }): Result;
  /** run, and throw unless it exits 0 */
  ok(args: string[], opts?: { input?: string | Buffer; timeout?: number }): Result;
  /** run without blocking, for commands at once; its stdout, or a throw unless it exits 0 */
  okAsync(args: string[]): Promise<string>;
  /** the arguments that select this engine, for commands run another way */
  globalArgs: string[];
}

export function makeTestEngine(prefix = 'raind-engine-'): TestEngine {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const root = join(dir, 'root');
  const runRoot = join(dir, 'run');
  const globalArgs = ['--root', root, '--runroot', runRoot];
  const run = (args: string[], opts: { input?: string | Buffer; timeout?: number } = {}): Result => {
    const r = spawnSync(RAIND, [...globalArgs, ...args], {
      encoding: 'utf8',
      env: testEnv(),
      timeout: opts.timeout ?? 120_000,
      ...(opts.input !== undefined ? { input: opts.input } : { stdio: ['ignore', 'pipe', 'pipe'] }),
    });
    return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (args: string[], opts?: { input?: string | Buffer; timeout?: number }) => {
    const r = run(args, opts);
    if (r.code !== 0) throw new Error(`raind ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r;
  };
  const okAsync = (args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(RAIND, [...globalArgs, ...args], { env: testEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('close', (code) =>
        code === 0 ? resolve(stdout.trim()) : reject(new Error(`raind ${args.join(' ')} exited ${code}: ${stderr}`)),
      );
    });
  return { dir, root, runRoot, run, ok, okAsync, globalArgs };
}

/** A busybox-static image in the engine's store, imported from a rootfs tar (no registry);
 * `prepare` adds to the rootfs first. */
export function importBusybox(engine: TestEngine, ref = 'busybox:test', prepare?: (rootfs: string) => void): void {
  const rootfs = mkdtempSync(join(tmpdir(), 'raind-rootfs-'));
  try {
    makeRootfs(rootfs);
    prepare?.(rootfs);
    const tar = execFileSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 64 << 20 });
    engine.ok(['import', '--change', 'CMD ["/bin/sh"]', '-', ref], { input: tar });
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

/** What a test's containers could leave on the host: mounts and processes under its
 * directory, cgroups of its containers, conmon processes naming its root. */
export function engineLeftovers(engine: TestEngine, ids: string[] = []): string[] {
  const found: string[] = [];
  for (const m of mountsUnder(engine.dir)) found.push(`mount ${m}`);
  for (const p of containerProcessesUnder(engine.dir)) found.push(`container process ${describeProcesses([p])}`);
  for (const p of processesWith(engine.root)) found.push(`process ${describeProcesses([p])}`);
  for (const id of ids)
    for (const h of readdirSync('/sys/fs/cgroup'))
      if (existsSync(join('/sys/fs/cgroup', h, 'raind', id))) found.push(`cgroup ${h}/raind/${id}`);
  return found;
}

/** rm -f of every container, then the directory; throws with what was left behind. */
export function removeTestEngine(engine: TestEngine): void {
  const ids = engine.run(['ps', '-aq']).stdout.split('\n').filter(Boolean);
  for (const id of ids) engine.run(['rm', '-f', id]);
  const left = engineLeftovers(engine, ids);
  if (left.length) {
    killContainerProcesses(containerProcessesUnder(engine.dir));
    for (const m of mountsUnder(engine.dir).reverse()) spawnSync('umount', ['-l', m]);
  }
  rmSync(engine.dir, { recursive: true, force: true });
  if (left.length) throw new Error(`left behind: ${left.join('; ')}`);
}
