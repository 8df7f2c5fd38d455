import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseConfig, makeBundle, type Bundle } from '../helpers/bundle.js';
import { DROPLET, REPO, droplet, ok, stateOf, testEnv, uniqueId, waitFor } from '../helpers/droplet.js';
import { leftovers } from '../helpers/leaks.js';
import { configWith, expectRefused } from '../helpers/refused.js';

/** What the compiled executable must do as Node did: where Bun's runtime differs from Node's
 * (startup files, stdio, signals, spawn errors, the terminal), droplet must not. */

const O_NONBLOCK = 0o4000;

/** The flags of fds 0-2 as the container's process sees them (/proc/self/fdinfo). */
const STDIO_FLAGS = 'for i in 0 1 2; do echo "$i $(readlink /proc/self/fd/$i) $(grep flags /proc/self/fdinfo/$i)"; done';

function stdioFlags(out: string): { fd: number; kind: string; flags: number }[] {
  // the groups are not optional: all are set in a match
  return [...out.matchAll(/^([012]) (\S+) flags:\s+([0-7]+)$/gm)].map((m) => ({
    fd: Number(m[1]),
    kind: m[2]!.replace(/\[.*/, ''),
    flags: parseInt(m[3]!, 8),
  }));
}

describe('the compiled executable', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test('the name it is run by picks the program; a name it does not know runs droplet', () => {
    const links = join(b.dir, 'links');
    mkdirSync(links);
    for (const name of ['droplet', 'runc']) {
      symlinkSync(DROPLET, join(links, name));
      const r = spawnSync(join(links, name), ['--version'], { encoding: 'utf8', env: testEnv() });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^droplet version \S+\nspec: /);
    }
  });

  test("a .env or bunfig.toml in the caller's directory changes nothing", () => {
    const cwd = join(b.dir, 'caller');
    mkdirSync(cwd);
    const marker = join(cwd, 'preloaded');
    /* either file, if read, would make create fail or leave the marker */
    writeFileSync(join(cwd, '.env'), 'DROPLET_INIT=/nonexistent/droplet-init\n');
    writeFileSync(join(cwd, 'bunfig.toml'), 'preload = ["./preload.js"]\n');
    writeFileSync(join(cwd, 'preload.js'), `require("fs").writeFileSync(${JSON.stringify(marker)}, "")\n`);
    const c = baseConfig();
    c.process.args = ['/bin/sh', '-c', 'echo ran'];
    b.write(c);
    const id = uniqueId('cwd');
    const r = droplet(b.root, ['run', '-b', b.dir, id], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ran\n');
    assert.equal(existsSync(marker), false, 'bunfig.toml preload ran');
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test("run: the container's stdio are droplet's pipes, blocking", () => {
    const c = baseConfig();
    c.process.args = ['/bin/sh', '-c', STDIO_FLAGS];
    b.write(c);
    const id = uniqueId('pipes');
    /* real pipes (a shell's), not the socketpairs Node gives a child */
    const r = spawnSync('/bin/sh', ['-c', 'echo | "$0" --root "$1" run -b "$2" "$3" 2>&1 | cat', DROPLET, b.root, b.dir, id], {
      encoding: 'utf8',
      env: testEnv(),
    });
    assert.equal(r.status, 0, r.stderr);
    const fds = stdioFlags(r.stdout);
    assert.deepEqual(
      fds.map((f) => `${f.fd} ${f.kind}`),
      ['0 pipe:', '1 pipe:', '2 pipe:'],
      r.stdout,
    );
    for (const f of fds) assert.equal(f.flags & O_NONBLOCK, 0, `fd ${f.fd} is O_NONBLOCK`);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test("create + start: the init keeps create's pipes, blocking", async () => {
    const c = baseConfig();
    c.process.args = ['/bin/sh', '-c', STDIO_FLAGS];
    b.write(c);
    const id = uniqueId('pipes');
    /* cat sees the end of the pipe when the container's process, the last writer, exits */
    const script = '{ echo | "$0" --root "$1" create -b "$2" "$3" && "$0" --root "$1" start "$3"; } 2>&1 | cat';
    const r = spawnSync('/bin/sh', ['-c', script, DROPLET, b.root, b.dir, id], { encoding: 'utf8', env: testEnv(), timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    await waitFor(() => stateOf(b.root, id).status === 'stopped', 5000, 'the container to exit');
    ok(b.root, ['delete', id]);
    const fds = stdioFlags(r.stdout);
    assert.deepEqual(
      fds.map((f) => `${f.fd} ${f.kind}`),
      ['0 pipe:', '1 pipe:', '2 pipe:'],
      r.stdout,
    );
    for (const f of fds) assert.equal(f.flags & O_NONBLOCK, 0, `fd ${f.fd} is O_NONBLOCK`);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('--preserve-fds: fds from 4 up, which Bun marks close-on-exec at start, reach the container', () => {
    const files = [3, 4, 5].map((n) => {
      const f = join(b.dir, `fd${n}`);
      writeFileSync(f, `through fd ${n}\n`);
      return openSync(f, 'r');
    });
    try {
      const c = baseConfig();
      c.process.args = ['/bin/sh', '-c', 'cat <&3; cat <&4; cat <&5'];
      b.write(c);
      const id = uniqueId('fds');
      const r = droplet(b.root, ['run', '--preserve-fds', '3', '-b', b.dir, id], { extraFds: files });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'through fd 3\nthrough fd 4\nthrough fd 5\n');
      assert.deepEqual(leftovers(b.root, id, b.dir), []);
    } finally {
      for (const fd of files) closeSync(fd);
    }
  });

  test('a foreground run passes on every signal runc does', async () => {
    const signals = ['INT', 'HUP', 'QUIT', 'USR1', 'USR2', 'WINCH', 'CONT', 'TERM'];
    const c = baseConfig();
    c.root.readonly = false;
    const traps = signals.map((s) => `trap "echo got ${s}${s === 'TERM' ? '; exit 42' : ''}" ${s};`).join(' ');
    c.process.args = ['/bin/sh', '-c', `${traps} echo ready; while true; do sleep 0.05; done`];
    b.write(c);
    const out = join(b.dir, `signals-${uniqueId('o')}`);
    const fd = openSync(out, 'w');
    const id = uniqueId('sig');
    const child = spawn(DROPLET, ['--root', b.root, 'run', '-b', b.dir, id], { stdio: ['ignore', fd, 'inherit'], env: testEnv() });
    closeSync(fd);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const printed = () => readFileSync(out, 'utf8');
    await waitFor(() => printed().includes('ready'), 10000, 'the container to start');
    for (const s of signals) {
      child.kill(`SIG${s}` as NodeJS.Signals);
      await waitFor(() => printed().includes(`got ${s}\n`), 5000, `SIG${s} to reach the container`);
    }
    assert.equal(await exited, 42);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('a hook that cannot be started is named with its cause', () => {
    expectRefused(
      b,
      configWith((c) => (c.hooks = { prestart: [{ path: '/nonexistent/hook', args: ['hook'] }] })),
      /prestart hook \/nonexistent\/hook: no such file or directory \(hooks\.prestart\[0\]\)$/,
    );
  });

  test('a foreground run on a terminal gives it back as it found it', () => {
    const c = baseConfig();
    c.process.terminal = true;
    c.process.args = ['/bin/sh'];
    b.write(c);
    const id = uniqueId('tty');
    const before = join(b.dir, 'stty.before');
    const script = `stty -g > ${before}; "$0" --root "$1" run -b "$2" "$3"; echo "rc=$?"; stty -g | cmp -s - ${before} && echo same-mode; grep flags /proc/self/fdinfo/0`;
    const r = spawnSync(
      'python3',
      [join(REPO, 'test', 'helpers', 'pty-run.py'), '24', '80', 'exit 3\n', '/bin/sh', '-c', script, DROPLET, b.root, b.dir, id],
      { env: testEnv(), encoding: 'utf8', timeout: 60_000 },
    );
    assert.match(r.stdout, /rc=3\r?\nsame-mode\r?\nflags:\s+([0-7]+)\r?\n/);
    const flags = parseInt(/flags:\s+([0-7]+)/.exec(r.stdout)![1]!, 8); // matched just above
    assert.equal(flags & O_NONBLOCK, 0, 'the terminal was left O_NONBLOCK');
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });
});
