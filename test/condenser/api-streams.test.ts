import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ApiServer, startApiServer } from '../helpers/api-server.js';
import { REPO } from '../helpers/droplet.js';
import { type TestEngine, importBusybox, makeTestEngine, removeTestEngine } from '../helpers/engine.js';

/* the streaming endpoints of `raind serve` (attach, exec, logs), driven by the docker CLI */

const PTY_DIALOG = join(REPO, 'test', 'helpers', 'pty-dialog.py');
const IMAGE = 'busybox:latest';

let engine: TestEngine;
let api: ApiServer;

type Step = { expect: string } | { send: string; until?: string } | { resize: [number, number] };

/** docker on a terminal of rows x cols, with a dialog typed into it: what the terminal
 * showed (carriage returns dropped) and docker's exit code. */
function dockerOnTerminal(rows: number, cols: number, steps: Step[], args: string[]): { screen: string; code: number } {
  const out = execFileSync(PTY_DIALOG, [String(rows), String(cols), JSON.stringify(steps), 'docker', ...args], {
    encoding: 'utf8',
    env: api.env,
    timeout: 120_000,
  });
  const m = /\nEXIT (-?\d+)\n$/.exec(out);
  assert.ok(m, `no exit code in:\n${out}`);
  assert.doesNotMatch(out, /\nTIMEOUT /, out);
  return { screen: out.slice(0, m.index).replace(/\r/g, ''), code: Number(m[1]) };
}

/** A raw request on the API's socket: the status and the body. */
function curl(method: string, path: string, body?: string): { status: number; body: string } {
  const args = ['-s', '--unix-socket', api.socket, '-X', method, '-w', '\n%{http_code}', `http://raind${path}`];
  if (body !== undefined) args.push('-H', 'Content-Type: application/json', '-d', body);
  const r = spawnSync('curl', args, { encoding: 'utf8', timeout: 30_000 });
  const nl = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(nl + 1)), body: r.stdout.slice(0, nl) };
}

const state = (name: string) => JSON.parse(api.dockerOk(['inspect', name]).stdout)[0].State as { Status: string; Running: boolean };

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

before(async () => {
  engine = makeTestEngine('ras-');
  importBusybox(engine, IMAGE);
  api = await startApiServer(engine);
});

after(async () => {
  await api?.stop();
  if (engine) removeTestEngine(engine);
});

describe('docker run in the foreground (attach)', () => {
  test('stdout and stderr apart, and the exit code', () => {
    const r = api.docker(['run', '--rm', '--pull', 'never', IMAGE, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    const ok = api.docker(['run', '--rm', IMAGE, 'echo', 'fine']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'fine\n');
  });

  test('a missing command is 127', () => {
    const r = api.docker(['run', '--rm', IMAGE, 'no-such-command']);
    assert.equal(r.code, 127, r.stderr);
    assert.match(r.stderr, /no-such-command/);
    assert.equal(r.stdout, '');
  });

  test('stdin reaches the container; its end does not cut the output short', () => {
    const lines = `${Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n')}\n`;
    const r = api.docker(['run', '--rm', '-i', IMAGE, 'sh', '-c', 'wc -l; sleep 0.5; echo after'], { input: lines });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.replace(/ +/g, ''), '2000\nafter\n');
  });

  test('run -it through a terminal, with its size and a resize', () => {
    const { screen, code } = dockerOnTerminal(
      30,
      100,
      [
        { expect: '# ' },
        { send: 'stty size; echo run-$((6*7))\r' },
        { expect: 'run-42' },
        { resize: [40, 120] },
        /* the resize travels through the client and the server: ask again until it arrived */
        { send: 'stty size\r', until: '40 120' },
        { send: 'exit 5\r' },
      ],
      ['run', '--rm', '-it', IMAGE, 'sh'],
    );
    assert.equal(code, 5, screen);
    assert.match(screen, /30 100\n/);
  });
});

describe('logs', () => {
  test('logs -f streams the lines and ends when the container exits; --tail and --timestamps', async () => {
    const id = api
      .dockerOk(['run', '-d', IMAGE, 'sh', '-c', 'for i in 1 2 3 4 5; do echo line$i; echo err$i >&2; sleep 0.3; done'])
      .stdout.trim();
    const follow = spawn('docker', ['logs', '-f', id], { env: api.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    follow.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    follow.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    /* streaming: the first line is there while the container still runs */
    await until('the first line', () => out.includes('line1'));
    assert.ok(state(id).Running, 'the container should still run while its first lines stream');
    const code = await new Promise<number | null>((resolve) => follow.once('exit', (c) => resolve(c)));
    assert.equal(code, 0, err);
    assert.equal(out, 'line1\nline2\nline3\nline4\nline5\n');
    assert.equal(err, 'err1\nerr2\nerr3\nerr4\nerr5\n');
    const tail = api.dockerOk(['logs', '--tail', '2', id]);
    assert.equal(tail.stdout + tail.stderr, 'line5\nerr5\n');
    const stamped = api.dockerOk(['logs', '--timestamps', id]).stdout.trim().split('\n');
    assert.equal(stamped.length, 5);
    for (const line of stamped) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) line\d$/);
    assert.equal(api.dockerOk(['logs', '--since', '1h', id]).stdout, 'line1\nline2\nline3\nline4\nline5\n');
    assert.equal(api.dockerOk(['logs', '--until', '2000-01-01T00:00:00Z', id]).stdout, '');
    assert.equal(api.dockerOk(['logs', '--since', '2100-01-01T00:00:00Z', id]).stdout, '');
    api.dockerOk(['rm', id]);
  });
});

describe('exec', () => {
  let ctr: string;
  before(() => {
    ctr = api.dockerOk(['run', '-d', '--name', 'ras-exec', IMAGE, 'sleep', '300']).stdout.trim();
  });
  after(() => {
    api.docker(['rm', '-f', 'ras-exec']);
  });

  test('output apart, the exit code, -e, -w and -u', () => {
    const r = api.docker(['exec', 'ras-exec', 'sh', '-c', 'echo o; echo e >&2; exit 4']);
    assert.equal(r.code, 4);
    assert.equal(r.stdout, 'o\n');
    assert.equal(r.stderr, 'e\n');
    const env = api.dockerOk(['exec', '-e', 'FOO=bar', '-w', '/tmp', '-u', 'nobody', 'ras-exec', 'sh', '-c', 'echo $FOO $(pwd) $(id -u)']);
    assert.equal(env.stdout, 'bar /tmp 65534\n');
    const missing = api.docker(['exec', 'ras-exec', 'no-such-command']);
    assert.equal(missing.code, 127, missing.stderr);
    const piped = api.dockerOk(['exec', '-i', 'ras-exec', 'cat'], { input: 'through stdin\n' });
    assert.equal(piped.stdout, 'through stdin\n');
  });

  test('exec inspect tells the exit code; exec -d runs in the background', async () => {
    const created = curl('POST', `/containers/${ctr}/exec`, JSON.stringify({ Cmd: ['sh', '-c', 'exit 9'], AttachStdout: true }));
    assert.equal(created.status, 201, created.body);
    const execId = JSON.parse(created.body).Id as string;
    const started = curl('POST', `/exec/${execId}/start`, JSON.stringify({ Detach: true }));
    assert.equal(started.status, 200, started.body);
    await until('the exec to end', () => JSON.parse(curl('GET', `/exec/${execId}/json`).body).Running === false);
    const info = JSON.parse(curl('GET', `/exec/${execId}/json`).body);
    assert.equal(info.ExitCode, 9);
    assert.equal(info.ContainerID, ctr);
    assert.deepEqual(info.ProcessConfig.arguments, ['-c', 'exit 9']);
    assert.equal(curl('POST', `/exec/${execId}/start`, '{}').status, 409);
    api.dockerOk(['exec', '-d', 'ras-exec', 'sh', '-c', 'echo bg > /tmp/bg']);
    await until('the background exec', () => api.docker(['exec', 'ras-exec', 'cat', '/tmp/bg']).stdout === 'bg\n');
  });

  test('exec -it through a terminal, with a resize', () => {
    const { screen, code } = dockerOnTerminal(
      25,
      90,
      [
        { expect: '# ' },
        { send: 'stty size; echo exec-$((6*7))\r' },
        { expect: 'exec-42' },
        { resize: [33, 111] },
        { send: 'stty size\r', until: '33 111' },
        { send: 'exit 6\r' },
      ],
      ['exec', '-it', 'ras-exec', 'sh'],
    );
    assert.equal(code, 6, screen);
    assert.match(screen, /25 90\n/);
  });

  test('exec -it in a runc container: runc on a terminal of its own', () => {
    api.dockerOk(['run', '-d', '--runtime', 'runc', '--name', 'ras-runc', IMAGE, 'sleep', '300']);
    try {
      const { screen, code } = dockerOnTerminal(
        21,
        77,
        [
          { expect: '# ' },
          { send: 'stty size\r', until: '21 77' },
          { send: 'echo runc-$((6*7))\r' },
          { expect: 'runc-42' },
          { send: 'exit 8\r' },
        ],
        ['exec', '-it', 'ras-runc', 'sh'],
      );
      assert.equal(code, 8, screen);
      const r = api.docker(['exec', 'ras-runc', 'sh', '-c', 'echo plain; exit 3']);
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stdout, 'plain\n');
    } finally {
      api.docker(['rm', '-f', 'ras-runc']);
    }
  });

  test('bad input: a stopped container is 409, an unknown exec 404', () => {
    assert.equal(curl('GET', '/exec/no-such-exec/json').status, 404);
    assert.equal(curl('POST', '/exec/no-such-exec/start', '{}').status, 404);
    assert.equal(curl('POST', `/containers/${ctr}/exec`, '{"Cmd": []}').status, 400);
    assert.equal(curl('POST', '/containers/no-such-container/exec', '{"Cmd": ["true"]}').status, 404);
    const user = api.docker(['exec', '-u', 'no-such-user', 'ras-exec', 'true']);
    assert.notEqual(user.code, 0);
    assert.match(user.stderr, /unable to find user no-such-user/);
    const stopped = api.dockerOk(['create', IMAGE, 'true']).stdout.trim();
    const r = curl('POST', `/containers/${stopped}/exec`, '{"Cmd": ["true"]}');
    assert.equal(r.status, 409, r.body);
    assert.match(JSON.parse(r.body).message, /is not running/);
    const cli = api.docker(['exec', stopped, 'true']);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /is not running/);
    api.dockerOk(['rm', stopped]);
  });

  test('an exec goes with its container', () => {
    const other = api.dockerOk(['run', '-d', IMAGE, 'sleep', '300']).stdout.trim();
    const execId = JSON.parse(curl('POST', `/containers/${other}/exec`, '{"Cmd": ["true"]}').body).Id as string;
    assert.equal(curl('GET', `/exec/${execId}/json`).status, 200);
    api.dockerOk(['rm', '-f', other]);
    assert.equal(curl('GET', `/exec/${execId}/json`).status, 404);
  });
});

describe('docker attach', () => {
  test('a terminal attached to a running container; ctrl-p ctrl-q leaves it running', () => {
    api.dockerOk(['run', '-dit', '--name', 'ras-tty', IMAGE, 'sh']);
    const { screen } = dockerOnTerminal(
      24,
      80,
      [
        { send: '\r', until: '# ' },
        { send: 'echo attached-$((5*5))\r' },
        { expect: 'attached-25' },
        { send: '\u0010\u0011' },
        { expect: 'read escape sequence' },
      ],
      ['attach', 'ras-tty'],
    );
    assert.match(screen, /attached-25/);
    assert.equal(state('ras-tty').Status, 'running');
    api.dockerOk(['rm', '-f', 'ras-tty']);
  });

  test('attach sees new output; a client killed mid-attach leaves the server and the container going', async () => {
    api.dockerOk(['run', '-d', '--name', 'ras-tick', IMAGE, 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo tick$i; sleep 0.2; done']);
    const client = spawn('docker', ['attach', '--sig-proxy=false', 'ras-tick'], { env: api.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    client.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await until('new output through attach', () => /tick\d+\n.*tick\d+\n/s.test(out));
    /* what attach shows is new: not the log from the start */
    assert.doesNotMatch(out, /^tick1\n/);
    const exited = new Promise((resolve) => client.once('exit', resolve));
    client.kill('SIGKILL');
    await exited;
    assert.equal(state('ras-tick').Status, 'running');
    const before = Number(/tick(\d+)\n$/.exec(api.dockerOk(['logs', '--tail', '1', 'ras-tick']).stdout)?.[1]);
    await until('more output after the client left', () => {
      const last = Number(/tick(\d+)\n$/.exec(api.dockerOk(['logs', '--tail', '1', 'ras-tick']).stdout)?.[1]);
      return last > before + 2;
    });
    assert.equal(api.dockerOk(['exec', 'ras-tick', 'echo', 'still']).stdout, 'still\n');
    api.dockerOk(['rm', '-f', 'ras-tick']);
  });

  test('many attaches at once leave the server free for stdin and output', async () => {
    api.dockerOk(['run', '-d', '--name', 'ras-idle', IMAGE, 'sleep', '300']);
    const clients = Array.from({ length: 8 }, () =>
      spawn('docker', ['attach', '--sig-proxy=false', 'ras-idle'], { env: api.env, stdio: ['ignore', 'ignore', 'ignore'] }),
    );
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const r = api.docker(['run', '--rm', '-i', IMAGE, 'cat'], { input: 'still served\n', timeout: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'still served\n');
    } finally {
      for (const c of clients) c.kill('SIGKILL');
      api.docker(['rm', '-f', 'ras-idle']);
    }
  });

  test('attach to an unknown container is 404', () => {
    assert.equal(curl('POST', '/containers/no-such-container/attach?stream=1&stdout=1').status, 404);
    assert.equal(curl('POST', '/containers/no-such-container/resize?h=10&w=10').status, 404);
  });

  test('start -a: an exited container attached before it starts again', () => {
    const first = api.docker(['run', '--name', 'ras-again', IMAGE, 'sh', '-c', 'echo again; echo oops >&2; exit 2']);
    assert.equal(first.code, 2, first.stderr);
    const r = api.docker(['start', '-a', 'ras-again']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, 'again\n');
    assert.equal(r.stderr, 'oops\n');
    api.dockerOk(['rm', 'ras-again']);
  });
});
