import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseConfig, makeBundle, type Bundle } from '../helpers/bundle.js';
import { cmdline, DROPLET, droplet, ok, stateOf, testEnv, uniqueId, waitFor } from '../helpers/droplet.js';
import { leftovers } from '../helpers/leaks.js';

/** Runs a container of the base config in the foreground and returns its output. */
function runIn(b: Bundle, args: string[], mutate?: (c: any) => void) {
  const c = baseConfig();
  c.process.args = args;
  mutate?.(c);
  b.write(c);
  const id = uniqueId('run');
  const r = droplet(b.root, ['run', '-b', b.dir, id]);
  assert.deepEqual(leftovers(b.root, id, b.dir), [], 'run leaves nothing behind');
  return r;
}

describe('the create + init model (the seed scenario)', () => {
  let b: Bundle;
  const id = uniqueId('seed');
  before(() => {
    b = makeBundle((c) => {
      c.process.args = ['/bin/sh', '-c', 'echo hello; sleep 30; echo bye'];
    });
  });
  after(() => {
    droplet(b.root, ['delete', '--force', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
    b.cleanup();
  });

  test('create leaves the init blocked on exec.fifo, shown as droplet init', () => {
    ok(b.root, ['create', '--bundle', b.dir, id]);
    const s = stateOf(b.root, id);
    assert.equal(s.status, 'created');
    assert.equal(s.id, id);
    assert.equal(s.bundle, b.dir);
    assert.ok(s.pid > 0);
    assert.ok(typeof s.created === 'string' && !Number.isNaN(Date.parse(s.created as string)));
    const fifo = join(b.root, id, 'exec.fifo');
    assert.equal(cmdline(s.pid), `droplet init ${id} ${fifo} /bin/sh -c echo hello; sleep 30; echo bye`);
    assert.ok(statSync(fifo).isFIFO());
    assert.ok(existsSync(join(b.root, id, 'state.json')));
  });

  test('start writes the byte: the same pid becomes the entrypoint', async () => {
    const { pid } = stateOf(b.root, id);
    ok(b.root, ['start', id]);
    assert.equal(existsSync(join(b.root, id, 'exec.fifo')), false, 'start removes the FIFO');
    await waitFor(() => cmdline(pid).startsWith('/bin/sh'), 5000, 'the entrypoint to replace the init');
    assert.equal(cmdline(pid), '/bin/sh -c echo hello; sleep 30; echo bye');
    const s = stateOf(b.root, id);
    assert.equal(s.status, 'running');
    assert.equal(s.pid, pid);
    /* the entrypoint's children are its children */
    await waitFor(
      () => readdirSync(`/proc/${pid}/task/${pid}`).length > 0 && readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim() !== '',
      5000,
      'sleep to start',
    );
    const child = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0]);
    assert.equal(cmdline(child), 'sleep 30');
  });

  test('start of a running container fails; delete without --force fails', () => {
    const r = droplet(b.root, ['start', id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^droplet: start .*: cannot start a container that is running/);
    const d = droplet(b.root, ['delete', id]);
    assert.notEqual(d.code, 0);
    assert.match(d.stderr, /cannot delete a running container/);
    assert.equal(stateOf(b.root, id).status, 'running');
  });

  test('list shows it in table, json and quiet form', () => {
    const json = JSON.parse(ok(b.root, ['list', '--format', 'json']).stdout);
    assert.equal(json.length, 1);
    assert.equal(json[0].id, id);
    assert.equal(json[0].status, 'running');
    const table = ok(b.root, ['list']).stdout.split('\n');
    assert.match(table[0] ?? '', /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
    assert.match(table[1] ?? '', new RegExp(`^${id}\\s+\\d+\\s+running\\s+${b.dir}`));
    assert.equal(ok(b.root, ['list', '-q']).stdout, `${id}\n`);
  });

  test('kill moves it to stopped, and kill of a stopped container fails', async () => {
    ok(b.root, ['kill', id, 'KILL']);
    await waitFor(() => stateOf(b.root, id).status === 'stopped', 5000, 'stopped');
    assert.equal(stateOf(b.root, id).pid, 0);
    const r = droplet(b.root, ['kill', id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot kill a stopped container/);
    ok(b.root, ['delete', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
    const s = droplet(b.root, ['state', id]);
    assert.notEqual(s.code, 0);
    assert.match(s.stderr, /does not exist/);
  });
});

describe('inside the container', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test('the entrypoint is PID 1, with the configured hostname and only lo', () => {
    const r = runIn(b, ['/bin/sh', '-c', 'echo pid=$$; hostname; ls /sys/class/net']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'pid=1\ndroplet-test\nlo\n');
  });

  test('ps inside sees only the container', () => {
    const r = runIn(b, ['/bin/sh', '-c', 'ps -o pid,args; true']);
    assert.equal(r.code, 0, r.stderr);
    const pids = r.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.trim().split(/\s+/)[0]));
    assert.deepEqual(pids.sort((x, y) => x - y).slice(0, 1), [1]);
    assert.ok(pids.length <= 2, r.stdout);
  });

  test('no fd of droplet reaches the container: only 0, 1, 2', () => {
    /* ls's own directory fd shows as a link to /proc/<pid>/fd: leave it out */
    const r = runIn(b, ['/bin/ls', '-l', '/proc/self/fd']);
    assert.equal(r.code, 0, r.stderr);
    const fds = r.stdout
      .split('\n')
      .filter((l) => l.includes('->') && !/-> \/proc\/\d+\/fd$/.test(l))
      .map((l) => Number(/ (\d+) ->/.exec(l)![1]));
    assert.deepEqual(fds, [0, 1, 2]);
  });

  test('no fd the caller leaked reaches the container either', () => {
    const extra = openSync('/etc/hostname', 'r');
    try {
      const r = runIn(b, ['/bin/sh', '-c', 'ls /proc/self/fd | wc -l']);
      /* sh -c: ls's dir fd plus 0,1,2 */
      assert.equal(r.stdout.trim(), '4', r.stdout);
    } finally {
      closeSync(extra);
    }
  });

  test('args, env, cwd, uid, gid and additional groups are applied', () => {
    const r = runIn(b, ['/bin/sh', '-c', 'echo "$FOO|$(pwd)|$(id -u):$(id -g)|$(id -G)"'], (c) => {
      c.process.env.push('FOO=bar baz');
      c.process.cwd = '/tmp/work';
      c.process.user = { uid: 1000, gid: 1001, additionalGids: [5, 1002] };
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'bar baz|/tmp/work|1000:1001|1001 5 1002\n');
  });

  test('an executable found through PATH runs', () => {
    const r = runIn(b, ['echo', 'via', 'path']);
    assert.equal(r.stdout, 'via path\n');
  });

  test('run exits with the container exit code', () => {
    assert.equal(runIn(b, ['/bin/sh', '-c', 'exit 3']).code, 3);
    assert.equal(runIn(b, ['/bin/false']).code, 1);
  });

  test('run reports death by signal as 128+n', async () => {
    const c = baseConfig();
    c.process.args = ['/bin/sleep', '30'];
    b.write(c);
    const id = uniqueId('sig');
    const child = spawn(DROPLET, ['--root', b.root, 'run', '-b', b.dir, id], { stdio: 'ignore', env: testEnv() });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await waitFor(() => droplet(b.root, ['state', id]).stdout.includes('"running"'), 10000, 'running');
    ok(b.root, ['kill', id, 'KILL']);
    assert.equal(await exited, 137);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('the container has a read-only root and the default devices', () => {
    const r = runIn(b, [
      '/bin/sh',
      '-c',
      'touch /x 2>/dev/null && echo writable; ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty | cut -c1; for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; echo data > /dev/null && echo ok',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'c\nc\nc\nc\nc\nc\n/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2\npts/ptmx\nok\n');
  });

  test('masked paths are hidden and read-only paths cannot be written', () => {
    mkdirSync(join(b.rootfs, 'secret'), { recursive: true });
    writeFileSync(join(b.rootfs, 'secret', 'key'), 'hidden');
    writeFileSync(join(b.rootfs, 'etc', 'token'), 'hidden');
    const r = runIn(
      b,
      [
        '/bin/sh',
        '-c',
        'ls /secret | wc -l; wc -c < /etc/token; wc -c < /proc/keys; echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo ro1; touch /etc/x 2>/dev/null || echo ro2; touch /tmp/x && echo rw',
      ],
      (c) => {
        c.root.readonly = false;
        c.linux.maskedPaths.push('/secret', '/etc/token', '/does/not/exist');
        c.linux.readonlyPaths.push('/etc');
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '0\n0\n0\nro1\nro2\nrw\n');
    assert.equal(readFileSync(join(b.rootfs, 'secret', 'key'), 'utf8'), 'hidden');
  });

  test('capabilities, no_new_privs and rlimits from the config', () => {
    const r = runIn(b, ['/bin/sh', '-c', 'grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status; ulimit -n']);
    assert.equal(r.code, 0, r.stderr);
    /* AUDIT_WRITE (29), KILL (5), NET_BIND_SERVICE (10) */
    const mask = ((1n << 29n) | (1n << 5n) | (1n << 10n)).toString(16).padStart(16, '0');
    assert.match(r.stdout, new RegExp(`CapEff:\\s+${mask}`));
    assert.match(r.stdout, new RegExp(`CapBnd:\\s+${mask}`));
    assert.match(r.stdout, /NoNewPrivs:\s+1/);
    assert.match(r.stdout, /\n1024\n$/);
  });

  test('stdin of run is the container stdin', () => {
    const c = baseConfig();
    c.process.args = ['/bin/sh'];
    b.write(c);
    const input = join(b.dir, 'input');
    writeFileSync(input, 'echo from-stdin\nexit 4\n');
    const fd = openSync(input, 'r');
    try {
      const id = uniqueId('stdin');
      const r = droplet(b.root, ['run', '-b', b.dir, id], { stdio: [fd, 'pipe', 'pipe'] });
      assert.equal(r.code, 4);
    } finally {
      closeSync(fd);
    }
  });
});

describe('signals, detach and force', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  function createWith(args: string[]): string {
    const c = baseConfig();
    c.root.readonly = false;
    c.process.args = args;
    b.write(c);
    const id = uniqueId('sig');
    ok(b.root, ['create', '-b', b.dir, id]);
    return id;
  }

  test('kill sends the named or numbered signal the container handles', async () => {
    const out = join(b.dir, 'rootfs', 'tmp', 'trapped');
    const id = createWith([
      '/bin/sh',
      '-c',
      'trap "echo got-usr1 > /tmp/trapped" USR1; trap "exit 7" TERM; while true; do sleep 0.05; done',
    ]);
    ok(b.root, ['start', id]);
    await waitFor(() => cmdline(stateOf(b.root, id).pid).startsWith('/bin/sh'));
    await new Promise((r) => setTimeout(r, 200));
    ok(b.root, ['kill', id, 'SIGUSR1']);
    await waitFor(() => existsSync(out), 5000, 'the USR1 trap');
    assert.equal(readFileSync(out, 'utf8'), 'got-usr1\n');
    ok(b.root, ['kill', id, '15']);
    await waitFor(() => stateOf(b.root, id).status === 'stopped', 5000, 'TERM to stop it');
    ok(b.root, ['delete', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('kill refuses an unknown signal', () => {
    const id = createWith(['/bin/sleep', '30']);
    const r = droplet(b.root, ['kill', id, 'SIGNOPE']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown signal "SIGNOPE"/);
    ok(b.root, ['delete', '--force', id]);
  });

  test('delete of a created container removes it and its init', () => {
    const id = createWith(['/bin/sleep', '30']);
    const { pid } = stateOf(b.root, id);
    ok(b.root, ['delete', id]);
    assert.equal(cmdline(pid), '');
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('delete --force of created and running containers', async () => {
    const created = createWith(['/bin/sleep', '30']);
    ok(b.root, ['delete', '--force', created]);
    assert.deepEqual(leftovers(b.root, created, b.dir), []);
    const running = createWith(['/bin/sleep', '30']);
    ok(b.root, ['start', running]);
    ok(b.root, ['delete', '-f', running]);
    assert.deepEqual(leftovers(b.root, running, b.dir), []);
  });

  test('delete --force of a container that does not exist succeeds, as with runc', () => {
    ok(b.root, ['delete', '--force', 'never-created']);
    assert.notEqual(droplet(b.root, ['delete', 'never-created']).code, 0);
  });

  test('run --detach returns while the container runs; --pid-file names the init', () => {
    const c = baseConfig();
    c.process.args = ['/bin/sleep', '30'];
    b.write(c);
    const id = uniqueId('detach');
    const pidFile = join(b.dir, 'pid');
    ok(b.root, ['run', '-d', '--pid-file', pidFile, '-b', b.dir, id]);
    const s = stateOf(b.root, id);
    assert.equal(s.status, 'running');
    assert.equal(readFileSync(pidFile, 'utf8'), String(s.pid));
    ok(b.root, ['delete', '-f', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('a reused pid or a zombie does not read as running', () => {
    const id = createWith(['/bin/sleep', '30']);
    const file = join(b.root, id, 'state.json');
    const saved = readFileSync(file, 'utf8');
    const st = JSON.parse(saved);
    /* same pid, another start time: the pid now belongs to someone else */
    writeFileSync(file, JSON.stringify({ ...st, initStartTime: '1' }));
    assert.equal(stateOf(b.root, id).status, 'stopped');
    writeFileSync(file, saved);
    assert.equal(stateOf(b.root, id).status, 'created');
    ok(b.root, ['delete', '-f', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('a foreground run forwards SIGTERM to the container', async () => {
    const c = baseConfig();
    c.root.readonly = false;
    c.process.args = ['/bin/sh', '-c', 'trap "exit 42" TERM; echo ready > /tmp/ready; while true; do sleep 0.05; done'];
    b.write(c);
    const ready = join(b.rootfs, 'tmp', 'ready');
    const id = uniqueId('fwd');
    const child = spawn(DROPLET, ['--root', b.root, 'run', '-b', b.dir, id], { stdio: 'ignore', env: testEnv() });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await waitFor(() => existsSync(ready), 10000, 'the container to start');
    child.kill('SIGTERM');
    assert.equal(await exited, 42);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });
});
