import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Result, testEnv } from './droplet.js';
import { containerProcessesUnder, describeProcesses, killContainerProcesses, mountsUnder } from './leaks.js';
import { RAIND } from './raind.js';

const APPLETS = ['sh', 'ls', 'cat', 'echo', 'sleep', 'mkdir', 'ln', 'stat', 'true', 'test', 'readlink', 'rm'];

/** A store of its own (--root and --runroot in a temporary directory) holding busybox:test,
 * a busybox-static image with the files `extra` adds (path → content, or {link}). */
export class TestStore {
  readonly dir: string;
  readonly root: string;
  readonly runRoot: string;

  constructor(prefix: string, extra: Record<string, string | { link: string }> = {}) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    this.root = join(this.dir, 'root');
    this.runRoot = join(this.dir, 'run');
    const rootfs = join(this.dir, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    mkdirSync(join(rootfs, 'etc'));
    mkdirSync(join(rootfs, 'tmp'), { mode: 0o1777 });
    writeFileSync(join(rootfs, 'bin/busybox'), readFileSync('/bin/busybox'), { mode: 0o755 });
    for (const a of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', a));
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:container root:/root:/bin/sh\n');
    for (const [path, what] of Object.entries(extra)) {
      mkdirSync(join(rootfs, path, '..'), { recursive: true });
      if (typeof what === 'string') writeFileSync(join(rootfs, path), what);
      else symlinkSync(what.link, join(rootfs, path));
    }
    const tar = execFileSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 64 << 20 });
    this.ok(['import', '--change', 'CMD ["/bin/sh"]', '-', 'busybox:test'], { input: tar });
    rmSync(rootfs, { recursive: true, force: true });
  }

  run(args: string[], opts: { input?: Buffer | string } = {}): Result & { stdoutBuffer: Buffer } {
    const r = spawnSync(RAIND, ['--root', this.root, '--runroot', this.runRoot, ...args], {
      env: testEnv(),
      timeout: 120_000,
      maxBuffer: 256 << 20,
      ...(opts.input !== undefined ? { input: opts.input } : { stdio: ['ignore', 'pipe', 'pipe'] }),
    });
    return {
      code: r.status,
      signal: r.signal,
      stdout: r.stdout?.toString('utf8') ?? '',
      stderr: r.stderr?.toString('utf8') ?? '',
      stdoutBuffer: r.stdout ?? Buffer.alloc(0),
    };
  }

  ok(args: string[], opts: { input?: Buffer | string } = {}): Result & { stdoutBuffer: Buffer } {
    const r = this.run(args, opts);
    if (r.code !== 0) throw new Error(`raind ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r;
  }

  /** Removes every container (rm -f), then reports what is left on the host: mounts below
   * the store, container processes, cgroups of its containers. */
  cleanup(): string[] {
    const ids = this.run(['ps', '-a', '-q']).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) this.run(['rm', '-f', ...ids]);
    const left: string[] = [];
    const pids = containerProcessesUnder(this.dir);
    if (pids.length > 0) {
      left.push(`processes ${describeProcesses(pids)}`);
      killContainerProcesses(pids);
    }
    for (const m of mountsUnder(this.dir)) {
      left.push(`mount ${m}`);
      spawnSync('umount', ['-l', m]);
    }
    for (const id of ids)
      for (const c of ['memory', 'pids', 'cpu', 'freezer'])
        try {
          readFileSync(join('/sys/fs/cgroup', c, 'raind', id, 'cgroup.procs'));
          left.push(`cgroup ${c}/raind/${id}`);
        } catch {}
    rmSync(this.dir, { recursive: true, force: true });
    return left;
  }
}
