import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type ApiServer, serveForSuite } from '../helpers/api-server.js';
import { testEnv } from '../helpers/droplet.js';
import type { TestEngine } from '../helpers/engine.js';
import { RAIND } from '../helpers/raind.js';

const auditLines = (e: TestEngine): any[] =>
  readFileSync(join(e.root, 'audit.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

/** The audit lines that match, once there are some: the server writes a line after its answer
 * is sent, so a client may look before it is there. */
async function audited(e: TestEngine, match: (l: any) => boolean): Promise<any[]> {
  for (let i = 0; ; i++) {
    const found = auditLines(e).filter(match);
    if (found.length > 0 || i >= 100) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A raw HTTP request over a unix socket as another uid (python: setgid, setuid, connect). */
function requestAs(uid: number, socket: string, request: string): string {
  const py = `import os,socket,sys
os.setgroups([]); os.setgid(${uid}); os.setuid(${uid})
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode())
out=b''
while True:
  d=s.recv(65536)
  if not d: break
  out+=d
sys.stdout.write(out.decode())`;
  const r = spawnSync('python3', ['-c', py, socket, request], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('raind serve: who sent a request, socket activation', () => {
  let e: TestEngine;
  let api: ApiServer;
  serveForSuite((engine, server) => {
    e = engine;
    api = server;
  });

  test("the audit log's who on the unix socket is the peer's uid, gid and pid from the kernel", async () => {
    api.dockerOk(['create', '--pull', 'never', '--name', 'who-c1', 'busybox:latest', 'true']);
    api.dockerOk(['rm', 'who-c1']);
    const mine = await audited(e, (l) => l.method === 'DELETE' && l.target === 'who-c1');
    assert.equal(mine.length, 1, JSON.stringify(auditLines(e)));
    assert.equal(mine[0].who.transport, 'unix');
    assert.equal(mine[0].who.uid, 0);
    assert.equal(mine[0].who.gid, 0);
    assert.ok(mine[0].who.pid > 1);
    /* another uid, let in by opening the socket up for the test */
    chmodSync(api.socket, 0o666);
    chmodSync(e.dir, 0o711);
    const reply = requestAs(
      65534,
      api.socket,
      'POST /v1.43/containers/who-none/stop HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
    );
    assert.match(reply, /^HTTP\/1\.1 404/);
    const nobody = await audited(e, (l) => l.target === 'who-none');
    assert.equal(nobody.length, 1);
    assert.deepEqual([nobody[0].who.uid, nobody[0].who.gid, nobody[0].status], [65534, 65534, 404]);
  });

  test('an Upgrade request still reaches the server through the accepting listener', () => {
    const r = spawnSync(
      'curl',
      [
        '-sS',
        '--max-time',
        '10',
        '--unix-socket',
        api.socket,
        '-X',
        'POST',
        '-H',
        'Upgrade: tcp',
        '-H',
        'Connection: Upgrade',
        'http://x/v1.43/containers/who-nothing/attach?stream=1',
      ],
      { encoding: 'utf8' },
    );
    assert.match(r.stdout, /no such container|page not found/i);
  });

  test("an Upgrade request's body reaches its handler, sent with the headers or after them", async () => {
    for (const [name, split] of [
      ['up-whole', false],
      ['up-split', true],
    ] as const) {
      const body = JSON.stringify({ Image: 'busybox:latest', Cmd: ['true'] });
      const headers = `POST /v1.43/containers/create?name=${name} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`;
      const reply = await new Promise<string>((resolve, reject) => {
        const c = connect(api.socket);
        let out = '';
        c.on('data', (d: Buffer) => {
          out += d.toString();
          if (/\r\n\r\n[\s\S]*\}/.test(out)) c.destroy();
        });
        const timer = setTimeout(() => c.destroy(), 20_000);
        c.on('close', () => {
          clearTimeout(timer);
          resolve(out);
        });
        c.on('error', reject);
        c.on('connect', () => {
          if (!split) c.write(headers + body);
          else {
            c.write(headers + body.slice(0, 10));
            setTimeout(() => c.write(body.slice(10)), 200);
          }
        });
      });
      assert.match(reply, /^HTTP\/1\.1 201/, reply);
      api.dockerOk(['rm', name]);
    }
  });

  test('wait?condition=removed on a --rm container: its exit code, once it is gone', async () => {
    for (let i = 0; i < 3; i++) {
      const created = api
        .dockerOk(['create', '--rm', '--pull', 'never', '--network', 'none', 'busybox:latest', 'sh', '-c', 'exit 7'])
        .stdout.trim();
      const waited = spawnSync(
        'sh',
        [
          '-c',
          `curl -s --unix-socket ${api.socket} -X POST 'http://x/v1.43/containers/${created}/wait?condition=removed' & sleep 0.2; curl -s --unix-socket ${api.socket} -X POST http://x/v1.43/containers/${created}/start; wait`,
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
      assert.deepEqual(JSON.parse(waited.stdout), { StatusCode: 7, Error: null });
      assert.equal(e.ok(['ps', '-aq']).stdout, '');
    }
  });

  test('socket activation: a socket bound by the service manager, LISTEN_FDS=1, -H fd://', async () => {
    const socket = join(e.dir, 'activated.sock');
    /* what systemd does for raind.socket: bind, listen, and exec the service with the socket as fd 3 */
    const wrapper = `import os,socket,sys
s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o660); s.listen(128)
os.dup2(s.fileno(), 3); os.set_inheritable(3, True)
os.environ['LISTEN_FDS']='1'; os.environ['LISTEN_PID']=str(os.getpid())
os.execv(sys.argv[2], sys.argv[2:])`;
    const child: ChildProcess = spawn('python3', ['-c', wrapper, socket, RAIND, ...e.globalArgs, 'serve', '-H', 'fd://'], {
      env: testEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const env = { ...api.env, DOCKER_HOST: `unix://${socket}` };
      for (let i = 0; i < 250 && !stderr.includes('listening on fd://'); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(existsSync(socket));
      const v = spawnSync('docker', ['version', '--format', '{{.Server.APIVersion}}'], { encoding: 'utf8', env, timeout: 30_000 });
      assert.equal(v.status, 0, `${v.stderr} ${stderr}`);
      assert.equal(v.stdout.trim(), '1.43');
      const ps = spawnSync('docker', ['ps', '-a', '--format', '{{.Names}}'], { encoding: 'utf8', env, timeout: 30_000 });
      assert.equal(ps.status, 0, ps.stderr);
      /* the peer's uid through a passed socket too */
      spawnSync('docker', ['rm', 'activated-none'], { encoding: 'utf8', env, timeout: 30_000 });
      const [line] = await audited(e, (l) => l.target === 'activated-none');
      assert.deepEqual([line?.who.transport, line?.who.uid, line?.status], ['unix', 0, 404]);
      /* the socket is not handed on: close-on-exec, so no child of the server holds it */
      const flags = /^flags:\s+(\d+)/m.exec(readFileSync(`/proc/${child.pid}/fdinfo/3`, 'utf8'))?.[1] ?? '0';
      assert.ok(Number.parseInt(flags, 8) & 0o2000000, `fd 3 flags ${flags}`);
      const environ = readFileSync(`/proc/${child.pid}/environ`, 'utf8');
      assert.match(environ, /LISTEN_FDS=1/, 'the variables as exec gave them');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    assert.equal(child.exitCode, 0, stderr);
  });

  test('-H fd:// with no sockets passed: one line, no server', () => {
    const r = spawnSync(RAIND, [...e.globalArgs, 'serve', '-H', 'fd://'], { encoding: 'utf8', env: testEnv(), timeout: 30_000 });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /fd:\/\/: no sockets were passed/);
  });
});
