import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A docker-registry (distribution 2.8) of the test's own, on 127.0.0.1 with a free port,
 * its storage and log in `dir`. */
export class TestRegistry {
  private proc?: ChildProcess;
  port = 0;

  constructor(readonly dir: string) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }
  get storage(): string {
    return join(this.dir, 'storage');
  }
  get logFile(): string {
    return join(this.dir, 'registry.log');
  }

  /** htpasswd: basic authentication with that file; tls: https with that certificate. The
   * storage is kept across a stop and start, so an image pushed in the open stays. */
  async start(opts: { htpasswd?: string; tls?: { certificate: string; key: string } } = {}): Promise<void> {
    if (!this.port) this.port = await freePort();
    mkdirSync(this.storage, { recursive: true });
    const config = join(this.dir, 'config.yml');
    writeFileSync(
      config,
      `version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: ${this.storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${this.port}\n` +
        (opts.tls ? `  tls:\n    certificate: ${opts.tls.certificate}\n    key: ${opts.tls.key}\n` : '') +
        (opts.htpasswd ? `auth:\n  htpasswd:\n    realm: test-realm\n    path: ${opts.htpasswd}\n` : ''),
    );
    const log = openSync(this.logFile, 'a');
    this.proc = spawn('docker-registry', ['serve', config], { stdio: ['ignore', log, log] });
    closeSync(log);
    for (let i = 0; i < 200; i++) {
      if (this.proc.exitCode !== null)
        throw new Error(`docker-registry exited ${this.proc.exitCode}: ${readFileSync(this.logFile, 'utf8')}`);
      if (opts.tls || opts.htpasswd) {
        if (await listening(this.port)) return;
      } else
        try {
          if ((await fetch(`http://${this.host}/v2/`)).ok) return;
        } catch {}
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('docker-registry did not start');
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  }

  /** The blob GETs the registry has served so far (from its access log). */
  blobGets(): number {
    return readFileSync(this.logFile, 'utf8')
      .split('\n')
      .filter((l) => /"GET \/v2\/[^ ]+\/blobs\/sha256:/.test(l)).length;
  }

  /** Where the registry keeps a blob's bytes. */
  blobData(digest: string): string {
    const hex = digest.slice('sha256:'.length);
    return join(this.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
  }

  async pushBlob(repo: string, data: Buffer): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const start = await fetch(`http://${this.host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    if (start.status !== 202) throw new Error(`upload start: HTTP ${start.status}`);
    const url = new URL(start.headers.get('location') as string, `http://${this.host}`);
    url.searchParams.set('digest', digest);
    const put = await fetch(url, { method: 'PUT', body: new Uint8Array(data), headers: { 'Content-Type': 'application/octet-stream' } });
    if (put.status !== 201) throw new Error(`upload ${digest}: HTTP ${put.status} ${await put.text()}`);
    return digest;
  }

  async pushManifest(repo: string, tag: string, mediaType: string, body: Buffer): Promise<string> {
    const res = await fetch(`http://${this.host}/v2/${repo}/manifests/${tag}`, {
      method: 'PUT',
      body: new Uint8Array(body),
      headers: { 'Content-Type': mediaType },
    });
    if (res.status !== 201) throw new Error(`manifest ${repo}:${tag}: HTTP ${res.status} ${await res.text()}`);
    return res.headers.get('docker-content-digest') as string;
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A suite's own registry: a temporary directory (named with prefix) whose registry/ the
 * registry serves, started. */
export async function startSuiteRegistry(prefix: string): Promise<{ dir: string; registry: TestRegistry }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const registry = new TestRegistry(join(dir, 'registry'));
  await registry.start();
  return { dir, registry };
}

/** Stops what startSuiteRegistry started and removes its directory (after a failed start too). */
export async function stopSuiteRegistry(dir: string | undefined, registry: TestRegistry | undefined): Promise<void> {
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
