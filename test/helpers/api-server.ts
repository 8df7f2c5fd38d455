import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { type Result, testEnv } from './droplet.js';
import { type TestEngine, importBusybox, makeTestEngine, removeTestEngine } from './engine.js';
import { RAIND } from './raind.js';

/** `raind serve` on a test engine, and the docker CLI pointed at it. */
export interface ApiServer {
  /** the unix socket it listens on */
  socket: string;
  /** DOCKER_HOST and a config dir of its own, for clients run another way */
  env: NodeJS.ProcessEnv;
  process: ChildProcess;
  /** the docker CLI against this server */
  docker(args: string[], opts?: { input?: string | Buffer; timeout?: number }): Result;
  /** docker, and throw unless it exits 0 */
  dockerOk(args: string[], opts?: { input?: string | Buffer; timeout?: number }): Result;
  /** everything the server wrote to stderr so far */
  log(): string;
  /** SIGTERM, and wait for it to exit */
  stop(): Promise<void>;
}

/** Starts `raind serve -H unix://<engine.dir>/api.sock [extra...]` and waits until it answers. */
export async function startApiServer(engine: TestEngine, extra: string[] = []): Promise<ApiServer> {
  const socket = join(engine.dir, 'api.sock');
  const child = spawn(RAIND, [...engine.globalArgs, 'serve', '-H', `unix://${socket}`, ...extra], {
    env: testEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const env: NodeJS.ProcessEnv = {
    ...testEnv(),
    DOCKER_HOST: `unix://${socket}`,
    DOCKER_CONFIG: join(engine.dir, 'docker-config'),
    DOCKER_CLI_HINTS: 'false',
  };
  const docker = (args: string[], opts: { input?: string | Buffer; timeout?: number } = {}): Result => {
    const r = spawnSync('docker', args, {
      encoding: 'utf8',
      env,
      timeout: opts.timeout ?? 120_000,
      ...(opts.input !== undefined ? { input: opts.input } : { stdio: ['ignore', 'pipe', 'pipe'] }),
    });
    return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  };
  const dockerOk = (args: string[], opts?: { input?: string | Buffer; timeout?: number }) => {
    const r = docker(args, opts);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r;
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`raind serve exited ${child.exitCode}: ${stderr}`);
    if (existsSync(socket) && docker(['version', '--format', '{{.Server.APIVersion}}'], { timeout: 5000 }).code === 0) break;
    if (i > 200) {
      await stop();
      throw new Error(`raind serve did not answer on ${socket}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { socket, env, process: child, docker, dockerOk, log: () => stderr, stop };
}

/** For a suite: before its tests, a test engine with busybox:latest and raind serve on it,
 * handed to `use`; after them, the server stopped and the engine removed. */
export function serveForSuite(use: (engine: TestEngine, api: ApiServer) => void, prefix?: string): void {
  let engine: TestEngine | undefined;
  let api: ApiServer | undefined;
  before(async () => {
    engine = makeTestEngine(prefix);
    importBusybox(engine, 'busybox:latest');
    api = await startApiServer(engine);
    use(engine, api);
  });
  after(async () => {
    await api?.stop();
    if (engine) removeTestEngine(engine);
  });
}
