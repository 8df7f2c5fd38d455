import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSpec } from '../../src/oci/default-spec.js';
import { containerProcessesUnder, describeProcesses, killContainerProcesses } from './leaks.js';

const BUSYBOX = '/usr/bin/busybox';

/** A busybox-static rootfs: /bin/busybox and one symlink per applet, plus /etc/passwd. */
export function makeRootfs(dir: string): void {
  if (!existsSync(BUSYBOX)) throw new Error('busybox-static is not installed (apt-get install busybox-static)');
  mkdirSync(join(dir, 'bin'), { recursive: true });
  cpSync(BUSYBOX, join(dir, 'bin', 'busybox'));
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', join(dir, 'bin', a));
  for (const d of ['proc', 'sys', 'dev', 'etc', 'tmp', 'root']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
}

export type Config = ReturnType<typeof baseConfig>;

/** droplet's default config with a test-friendly process. */
export function baseConfig() {
  const c = defaultSpec() as any;
  c.hostname = 'droplet-test';
  c.process.args = ['/bin/true'];
  return c;
}

export interface Bundle {
  dir: string;
  rootfs: string;
  root: string;
  write(config: unknown): void;
  cleanup(): void;
}

/** A bundle in a fresh temporary directory, with its own droplet --root next to it. */
export function makeBundle(mutate?: (c: any) => void): Bundle {
  const dir = mkdtempSync(join(tmpdir(), 'droplet-bundle-'));
  const rootfs = join(dir, 'rootfs');
  makeRootfs(rootfs);
  const b: Bundle = {
    dir,
    rootfs,
    root: join(dir, 'state'),
    write(config: unknown) {
      writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config, null, 2));
    },
    /** Removes the bundle and its root; fails if a container of theirs is still running
     * (killing it first, so that one failing test does not leave it to the machine). */
    cleanup() {
      const left = containerProcessesUnder(dir);
      const report = describeProcesses(left);
      killContainerProcesses(left);
      rmSync(dir, { recursive: true, force: true });
      if (left.length) throw new Error(`container processes of ${dir} were left running: ${report}`);
    },
  };
  const c = baseConfig();
  mutate?.(c);
  b.write(c);
  return b;
}
