import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CGROUP_ROOT = '/sys/fs/cgroup';
export const UNIFIED = join(CGROUP_ROOT, 'unified');

/** The container's directory in the host hierarchy of a v1 controller (default path). */
export function v1Dir(controller: string, id: string, path = `/droplet/${id}`): string {
  return join(CGROUP_ROOT, controller, path);
}

/** A cgroup file's content, trimmed. */
export function readCg(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8').trim();
}

/** "key value" lines as a map of numbers. */
export function keyValues(dir: string, file: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readCg(dir, file).split('\n')) {
    const [k, v] = line.split(/\s+/);
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
}

/** Host cgroup directories at `path`, in any hierarchy: for tests with their own cgroupsPath. */
export function cgroupsAt(path: string): string[] {
  return readdirSync(CGROUP_ROOT)
    .map((h) => join(CGROUP_ROOT, h, path))
    .filter((d) => existsSync(d));
}

/** Removes a cgroup (and the empty ones below it) in every hierarchy: a test's own parents. */
export function removeCgroupEverywhere(path: string): void {
  for (const dir of cgroupsAt(path)) removeTree(dir);
}

function removeTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeTree(join(dir, e.name));
  rmdirSync(dir);
}

/** A fake cgroup directory in a temporary directory: the given control files, empty, so that
 * droplet's writers (which never create files) can be pointed at it and read back. */
export interface FakeCgroup {
  dir: string;
  read(file: string): string;
  cleanup(): void;
}

export function fakeCgroup(files: Record<string, string>): FakeCgroup {
  const dir = mkdtempSync(join(tmpdir(), 'droplet-fake-cgroup-'));
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), content);
  }
  return {
    dir,
    read: (file) => readFileSync(join(dir, file), 'utf8'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The files of a cgroup v2 directory whose parent enables every controller droplet writes. */
export const V2_FILES = [
  'cgroup.controllers',
  'cgroup.procs',
  'cgroup.freeze',
  'cgroup.events',
  'cgroup.max.descendants',
  'memory.max',
  'memory.swap.max',
  'memory.low',
  'memory.high',
  'memory.current',
  'memory.events',
  'pids.max',
  'cpu.weight',
  'cpu.max',
  'cpu.max.burst',
  'cpu.idle',
  'cpuset.cpus',
  'cpuset.mems',
  'io.weight',
  'io.max',
  'hugetlb.2MB.max',
  'hugetlb.2MB.rsvd.max',
  'hugetlb.1GB.max',
  'rdma.max',
];

export function fakeV2Cgroup(omit: string[] = [], controllers = 'cpuset cpu io memory hugetlb pids rdma'): FakeCgroup {
  const files: Record<string, string> = {};
  for (const f of V2_FILES) if (!omit.includes(f)) files[f] = f === 'cgroup.controllers' ? `${controllers}\n` : '';
  return fakeCgroup(files);
}

/** A cgroup of the test's own in the host's real cgroup2 mount, holding a sleeping process. */
export interface UnifiedTestCgroup {
  dir: string;
  child: ChildProcess;
  cleanup(): Promise<void>;
}

let counter = 0;

export async function unifiedTestCgroup(): Promise<UnifiedTestCgroup> {
  const dir = join(UNIFIED, `droplet-test-${process.pid}-${++counter}`);
  mkdirSync(dir);
  const child = spawn('/bin/sleep', ['60'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));
  return {
    dir,
    child,
    async cleanup() {
      writeFileSync(join(dir, 'cgroup.freeze'), '0');
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      for (let i = 0; i < 200 && readCg(dir, 'cgroup.procs') !== ''; i++) await new Promise((r) => setTimeout(r, 10));
      rmdirSync(dir);
    },
  };
}

/** The state letter of /proc/<pid>/stat (R, S, D, T, Z...). */
export function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!; // split() returns at least one part
}

/** Every cgroup hierarchy mounted under /sys/fs/cgroup. */
export function hierarchies(): string[] {
  return readdirSync(CGROUP_ROOT)
    .map((h) => join(CGROUP_ROOT, h))
    .filter((d) => existsSync(join(d, 'cgroup.procs')));
}

/** Makes path in every hierarchy, as a test's own sandbox (a v1 cpuset gets its parent's cpus
 * and mems, or no task could join it). */
export function makeCgroupEverywhere(path: string): void {
  for (const h of hierarchies()) {
    let dir = h;
    for (const part of path.split('/').filter(Boolean)) {
      const parent = dir;
      dir = join(dir, part);
      if (!existsSync(dir)) mkdirSync(dir);
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        if (existsSync(join(dir, file)) && readCg(dir, file) === '') writeFileSync(join(dir, file), readCg(parent, file));
      }
    }
  }
}

/** A process of the test's own, not of any container, in the cgroup at path in every
 * hierarchy: what droplet must never signal nor remove. */
export interface ForeignProcess {
  pid: number;
  /** alive: not gone, not a zombie */
  alive(): boolean;
  /** kills it and removes the sandbox: the first component of path, in every hierarchy */
  cleanup(): Promise<void>;
}

export async function foreignProcess(path: string): Promise<ForeignProcess> {
  makeCgroupEverywhere(path);
  const child = spawn('/bin/sleep', ['600'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  const pid = child.pid!;
  for (const h of hierarchies()) writeFileSync(join(h, path, 'cgroup.procs'), String(pid));
  const exited = new Promise((r) => child.once('exit', r));
  return {
    pid,
    alive: () => isLive(pid),
    async cleanup() {
      child.kill('SIGKILL');
      await exited;
      removeCgroupEverywhere(`/${path.split('/').filter(Boolean)[0]}`);
    },
  };
}

/** The process exists and is not a zombie. */
export function isLive(pid: number): boolean {
  try {
    return procState(pid) !== 'Z';
  } catch {
    return false;
  }
}
