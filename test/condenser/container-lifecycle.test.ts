import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TestEngine, importBusybox, makeTestEngine, removeTestEngine } from '../helpers/engine.js';
import { RAIND } from '../helpers/raind.js';

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
const pidOf = (e: TestEngine, id: string) => JSON.parse(e.ok(['inspect', id]).stdout)[0].State.Pid as number;

/** Runs a command with a pty as its stdio (util-linux's script), for -t. */
function throughPty(args: string[]): string {
  const quoted = [RAIND, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return execFileSync('script', ['-qec', quoted, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
}

describe('raind containers: the seed demo and the lifecycle', () => {
  let e: TestEngine;
  before(() => {
    e = makeTestEngine();
    importBusybox(e);
  });
  after(() => removeTestEngine(e));

  test("COMMAND --help prints that command's usage and exits 0", () => {
    const help = e.ok(['run', '--help']).stdout;
    assert.match(help, /^usage: raind run \[-d\]/);
    assert.match(help, /--restart POLICY/);
  });

  test('the seed: create leaves droplet init on exec.fifo, start makes the same PID the command, exec -t shows it as PID 1', () => {
    const id = e.ok(['container', 'create', '--name', 'seed', 'busybox:test', '/bin/sh', '-c', 'echo hello; sleep 3600']).stdout.trim();
    assert.match(id, /^[0-9a-hjkmnp-tv-z]{12}$/);
    const dir = join(e.root, 'containers', id);
    const pid = pidOf(e, id);
    assert.equal(cmdline(pid), `droplet init ${id} ${dir}/exec.fifo /bin/sh -c echo hello; sleep 3600`);
    const listing = readdirSync(dir);
    for (const name of ['config.json', 'state.json', 'exec.fifo', 'diff', 'work', 'merged', 'etc'])
      assert.ok(listing.includes(name), `${name} in ${listing}`);
    assert.equal(readFileSync(join(dir, 'etc', 'hostname'), 'utf8'), `${id}\n`);
    assert.match(e.ok(['ps', '-a']).stdout, new RegExp(`${id}\\s+busybox:test\\s+"/bin/sh -c echo hel…".*Created\\s+seed`));

    e.ok(['container', 'start', id]);
    /* the same process, now the command: busybox's sh runs its last command in place */
    const after = cmdline(pid);
    assert.ok(after === '/bin/sh -c echo hello; sleep 3600' || after === 'sleep 3600', after);
    assert.equal(existsSync(join(dir, 'exec.fifo')), false);
    const ps = throughPty(['--root', e.root, '--runroot', e.runRoot, 'container', 'exec', '-t', id, 'ps', '-ef']);
    assert.match(ps, /^\s*1\s+\S+\s+(sleep 3600|\/bin\/sh -c echo hello; sleep 3600)\r?$/m);
    assert.equal(e.ok(['logs', id]).stdout, 'hello\n');
    assert.match(e.ok(['ps']).stdout, /Up .*seed/);
    e.ok(['rm', '-f', 'seed']);
    assert.equal(existsSync(dir), false);
  });

  test('run --rm exits with the command code: 0, 7, 126 (not executable), 127 (not found)', () => {
    assert.equal(e.run(['run', '--rm', 'busybox:test', 'true']).code, 0);
    const seven = e.run(['run', '--rm', 'busybox:test', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(seven.code, 7);
    assert.equal(seven.stdout, 'out\n');
    assert.equal(seven.stderr, 'err\n');
    const notFound = e.run(['run', '--rm', 'busybox:test', 'no-such-command']);
    assert.equal(notFound.code, 127, notFound.stderr);
    assert.equal(notFound.stderr.trim().split('\n').length, 1);
    const notExecutable = e.run(['run', '--rm', 'busybox:test', '/etc/passwd']);
    assert.equal(notExecutable.code, 126, notExecutable.stderr);
    assert.equal(e.ok(['ps', '-aq']).stdout, '');
  });

  test('a container killed by a signal exits 128+n: wait prints 137', () => {
    const id = e.ok(['run', '-d', 'busybox:test', 'sleep', '1000']).stdout.trim();
    e.ok(['kill', id]);
    assert.equal(e.ok(['wait', id]).stdout, '137\n');
    const state = JSON.parse(e.ok(['inspect', id]).stdout)[0].State;
    assert.equal(state.Status, 'exited');
    assert.equal(state.ExitCode, 137);
    e.ok(['rm', id]);
  });

  test('run -d, logs -f follows until stop, which sends the stop signal and then SIGKILL', async () => {
    const id = e
      .ok([
        'run',
        '-d',
        '--name',
        'chatty',
        '--stop-signal',
        'USR1',
        'busybox:test',
        'sh',
        '-c',
        'trap "echo got usr1; exit 3" USR1; echo line1; while true; do sleep 0.1; done',
      ])
      .stdout.trim();
    const follower = spawn(RAIND, [...e.globalArgs, 'logs', '-f', 'chatty'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follower.stdout.on('data', (d) => (followed += d));
    const ended = new Promise<number | null>((resolve) => follower.on('exit', resolve));
    for (let i = 0; i < 100 && !followed.includes('line1'); i++) await new Promise((r) => setTimeout(r, 50));
    e.ok(['stop', 'chatty']);
    assert.equal(await ended, 0);
    assert.equal(followed, 'line1\ngot usr1\n');
    assert.match(e.ok(['ps', '-a', '--filter', 'name=chatty']).stdout, /Exited \(3\)/);
    /* a container that ignores the signal is killed after the timeout */
    e.ok(['start', id]);
    e.ok(['stop', '-t', '0', id]);
    assert.equal(JSON.parse(e.ok(['inspect', id]).stdout)[0].State.ExitCode, 137);
    e.ok(['rm', id]);
  });

  test("run in the foreground passes a signal on to the container, as docker's --sig-proxy", async () => {
    const child = spawn(
      RAIND,
      [
        ...e.globalArgs,
        'run',
        '--rm',
        'busybox:test',
        'sh',
        '-c',
        'trap "echo got int; exit 5" INT; echo ready; while true; do sleep 0.1; done',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    const code = new Promise<number | null>((resolve) => child.on('exit', resolve));
    for (let i = 0; i < 200 && !output.includes('ready'); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    assert.equal(await code, 5);
    assert.equal(output, 'ready\ngot int\n');
  });

  test('an image a container uses is not removed, nor pruned, and the error names the container', () => {
    e.ok(['tag', 'busybox:test', 'busybox:only']);
    const id = e.ok(['create', '--name', 'holder', 'busybox:only', 'true']).stdout.trim();
    e.ok(['rmi', 'busybox:test']);
    const r = e.run(['rmi', 'busybox:only']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`in use by container holder \\(${id}\\)`));
    e.ok(['image', 'prune']);
    e.ok(['start', '-a', 'holder']);
    e.ok(['rm', 'holder']);
    e.ok(['tag', 'busybox:only', 'busybox:test']);
    e.ok(['rmi', 'busybox:only']);
  });

  test('a stopped container starts again with what it wrote', () => {
    const id = e.ok(['create', 'busybox:test', 'sh', '-c', 'echo run >> /count; cat /count']).stdout.trim();
    e.ok(['start', id]);
    e.ok(['wait', id]);
    e.ok(['start', id]);
    assert.equal(e.ok(['wait', id]).stdout, '0\n');
    assert.equal(e.ok(['logs', id]).stdout, 'run\nrun\nrun\n');
    e.ok(['rm', id]);
  });

  test("inspect shows docker's shape; ps filters and formats", () => {
    const id = e
      .ok(['run', '-d', '--name', 'shape', '-e', 'A=1', '-l', 'team=x', '-w', '/tmp', '-h', 'box', 'busybox:test', 'sleep', '100'])
      .stdout.trim();
    const [c] = JSON.parse(e.ok(['inspect', 'shape']).stdout);
    assert.equal(c.Id, id);
    assert.equal(c.Name, '/shape');
    assert.equal(c.State.Running, true);
    assert.ok(c.State.Pid > 0);
    assert.equal(c.Config.Hostname, 'box');
    assert.equal(c.Config.WorkingDir, '/tmp');
    assert.ok(c.Config.Env.includes('A=1'));
    assert.deepEqual(c.Config.Labels, { team: 'x' });
    assert.equal(c.Config.Image, 'busybox:test');
    assert.equal(c.HostConfig.NetworkMode, 'raind'); /* the default network, as docker's bridge */
    assert.ok('NetworkSettings' in c && 'Mounts' in c && 'Created' in c);
    assert.equal(e.ok(['exec', 'shape', 'hostname']).stdout, 'box\n');
    assert.equal(e.ok(['exec', 'shape', 'pwd']).stdout, '/tmp\n');
    assert.equal(e.ok(['ps', '-q', '--filter', 'label=team=x']).stdout, `${id}\n`);
    const json = JSON.parse(e.ok(['ps', '--format', 'json']).stdout);
    assert.equal(json[0].Names, 'shape');
    assert.equal(json[0].State, 'running');
    /* a unique prefix selects it */
    assert.equal(e.ok(['exec', id.slice(0, 11), 'echo', 'hi']).stdout, 'hi\n');
    e.ok(['rm', '-f', 'shape']);
  });
});

describe('raind containers: bad input is one line, exit 125, and leaves nothing', () => {
  let e: TestEngine;
  before(() => {
    e = makeTestEngine();
    importBusybox(e);
  });
  after(() => removeTestEngine(e));

  const refused = (args: string[], message: RegExp) => {
    const r = e.run(args);
    assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(e.run(['ps', '-aq']).stdout, '', 'no container is left');
    const containers = join(e.root, 'containers');
    assert.deepEqual(existsSync(containers) ? readdirSync(containers) : [], []);
  };

  test('create and run refuse what cannot work, naming the flag', () => {
    /* --pull never: the test reaches no registry */
    refused(['run', '--pull', 'never', '--rm', 'no-such-image:1', 'true'], /image "no-such-image:1" not found/);
    refused(['run', '-m', '12q', 'busybox:test', 'true'], /--memory: "12q"/);
    refused(['run', '-p', 'garbage', 'busybox:test', 'true'], /-p garbage/);
    refused(['run', '--cpus', '-1', 'busybox:test', 'true'], /--cpus/);
    refused(['run', '-v', '/no/such/dir:/x', 'busybox:test', 'true'], /bind source path does not exist: \/no\/such\/dir/);
    refused(['run', '--restart', 'sometimes', 'busybox:test', 'true'], /--restart/);
    refused(['run', '--runtime', 'nope', 'busybox:test', 'true'], /--runtime/);
    refused(['create', '--name', '-bad', 'busybox:test', 'true'], /--name/);
    refused(['create', '--pull', 'never', 'busybox:none'], /busybox:none/);
  });

  test('a name in use, exec into a stopped container, rm of a running one, an ambiguous prefix', () => {
    const id = e.ok(['create', '--name', 'taken', 'busybox:test', 'sleep', '100']).stdout.trim();
    const r = e.run(['create', '--name', 'taken', 'busybox:test', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, new RegExp(`name "taken" is already in use by container ${id}`));
    const exec = e.run(['exec', 'taken', 'true']);
    assert.equal(exec.code, 125);
    assert.match(exec.stderr, /is not running/);
    e.ok(['start', 'taken']);
    const rm = e.run(['rm', 'taken']);
    assert.equal(rm.code, 125);
    assert.match(rm.stderr, /cannot remove container taken: it is running/);
    const other = e.ok(['create', 'busybox:test', 'true']).stdout.trim();
    let common = 0;
    while (id[common] === other[common]) common++;
    const ambiguous = e.run(['rm', '-f', id.slice(0, common)]);
    assert.equal(ambiguous.code, 125);
    assert.match(ambiguous.stderr, /matches 2 containers/);
    e.ok(['rm', '-f', id, other]);
  });
});
