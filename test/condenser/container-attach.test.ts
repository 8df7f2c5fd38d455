import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { REPO, type Result, testEnv } from '../helpers/droplet.js';
import { mountsUnder, processesWith } from '../helpers/leaks.js';
import { RAIND } from '../helpers/raind.js';

/* short: the attach socket's path, <runroot>/socket/<id>/attach, must fit in 108 bytes */
let dir: string;
let root: string;
let runRoot: string;
const IMAGE = 'busybox:attach';
const PTY_DIALOG = join(REPO, 'test', 'helpers', 'pty-dialog.py');

const args = (rest: string[]) => ['--root', root, '--runroot', runRoot, ...rest];

/** The containers this suite made and saw: the ids create and run -d print, and those of
 * the containers the tests leave (a --rm one in the foreground is gone before it is seen). */
const seen = new Set<string>();

function raind(rest: string[], input?: string): Result {
  const r = spawnSync(RAIND, args(rest), { encoding: 'utf8', env: testEnv(), timeout: 60_000, input: input ?? '' });
  if ((rest[0] === 'create' || rest[0] === 'run') && /^[0-9a-z]{12}\n$/.test(r.stdout)) seen.add(r.stdout.trim());
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function raindOk(rest: string[], input?: string): Result {
  const r = raind(rest, input);
  if (r.code !== 0) throw new Error(`raind ${rest.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

type Step = { expect: string } | { send: string; until?: string } | { resize: [number, number] };

/** raind on a terminal of rows x cols, with a dialog typed into it: what the terminal
 * showed (carriage returns dropped) and raind's exit code. */
function onTerminal(rows: number, cols: number, steps: Step[], rest: string[]): { screen: string; code: number } {
  return commandOnTerminal(rows, cols, steps, [RAIND, ...args(rest)]);
}

function commandOnTerminal(rows: number, cols: number, steps: Step[], command: string[]): { screen: string; code: number } {
  const out = execFileSync(PTY_DIALOG, [String(rows), String(cols), JSON.stringify(steps), ...command], {
    encoding: 'utf8',
    env: testEnv(),
    timeout: 120_000,
  });
  const m = /\nEXIT (-?\d+)\n$/.exec(out);
  assert.ok(m, `no exit code in:\n${out}`);
  assert.doesNotMatch(out, /\nTIMEOUT /, out);
  return { screen: out.slice(0, m.index).replace(/\r/g, ''), code: Number(m[1]) };
}

const status = (name: string) => JSON.parse(raindOk(['inspect', name]).stdout)[0].State.Status as string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ra-'));
  root = join(dir, 'root');
  runRoot = join(dir, 'run');
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  mkdirSync(join(rootfs, 'etc'));
  mkdirSync(join(rootfs, 'tmp'));
  writeFileSync(join(rootfs, 'bin/busybox'), readFileSync('/bin/busybox'), { mode: 0o755 });
  for (const applet of ['sh', 'cat', 'echo', 'ps', 'stty', 'sleep']) symlinkSync('busybox', join(rootfs, 'bin', applet));
  const tar = join(dir, 'rootfs.tar');
  execFileSync('tar', ['-C', rootfs, '-cf', tar, '.']);
  raindOk(['import', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/bin', tar, IMAGE]);
});

/** Each test's containers go, whatever it left. */
function removeContainers(): void {
  for (const id of raindOk(['ps', '-a', '-q', '--no-trunc']).stdout.split('\n').filter(Boolean)) {
    seen.add(id);
    raind(['rm', '-f', id]);
  }
}

afterEach(removeContainers);
after(() => rmSync(dir, { recursive: true, force: true }));

describe('raind attach', () => {
  test("run -it: a shell on this terminal; its exit code is raind run's, and --rm removes it", () => {
    const { screen, code } = onTerminal(
      24,
      80,
      [{ expect: '# ' }, { send: 'echo $((6*7)); exit 3\r' }],
      ['run', '-it', '--rm', '--name', 'shell', IMAGE, 'sh'],
    );
    assert.match(screen, /^42$/m, screen);
    assert.equal(code, 3, screen);
    assert.equal(raindOk(['ps', '-a', '-q']).stdout, '', 'the --rm container is gone');
  });

  test('the terminal is given back as it was, after an exit and after a detach', () => {
    const quoted = (rest: string[]) => [RAIND, ...args(rest)].map((a) => `'${a}'`).join(' ');
    const script = `${quoted(['run', '-it', '--rm', IMAGE, 'sh', '-c', 'exit 0'])}; stty -a; ${quoted(['run', '-it', '--name', 'left', IMAGE, 'sh'])}; echo detached=$?; stty -a`;
    const { screen, code } = commandOnTerminal(
      24,
      80,
      [{ expect: '# ' }, { send: '\x10\x11' }, { expect: 'detached=0' }],
      ['/bin/sh', '-c', script],
    );
    assert.equal(code, 0, screen);
    const settings = screen.split('speed ').slice(1);
    assert.equal(settings.length, 2, screen);
    for (const s of settings) {
      for (const flag of ['icanon', 'echo', 'isig', 'opost', 'onlcr', 'icrnl'])
        assert.match(s, new RegExp(`(^|\\s)${flag}(\\s|$)`), `${flag} in ${s}`);
    }
    assert.equal(status('left'), 'running');
  });

  test("run -i without a terminal passes raind's signals to the container", async () => {
    const child = spawn(
      RAIND,
      args(['run', '-i', '--rm', IMAGE, 'sh', '-c', 'trap "echo got-int; exit 42" INT; echo ready; while :; do sleep 0.1; done']),
      {
        env: testEnv(),
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    let output = '';
    child.stdout.setEncoding('utf8');
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: string) => {
        output += d;
        if (output.includes('ready\n')) resolve();
      }),
    );
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 42);
    assert.match(output, /got-int/);
  });

  test('run -i: stdin piped in reaches the command; stdout and stderr stay apart', () => {
    const input = 'first line\nsecond line\n';
    const r = raind(['run', '-i', '--rm', IMAGE, 'cat'], input);
    assert.equal(r.stdout, input);
    assert.equal(r.code, 0, r.stderr);
    const split = raind(['run', '-i', '--rm', IMAGE, 'sh', '-c', 'cat; echo to-stderr >&2; exit 5'], 'to-stdout\n');
    assert.equal(split.stdout, 'to-stdout\n');
    assert.equal(split.stderr, 'to-stderr\n');
    assert.equal(split.code, 5);
  });

  test('run -t: the terminal starts at our size and follows it when it changes', () => {
    const first = onTerminal(33, 77, [], ['run', '-t', '--rm', IMAGE, 'stty', 'size']);
    assert.match(first.screen, /^33 77$/m, first.screen);
    assert.equal(first.code, 0);
    const { screen, code } = onTerminal(
      24,
      80,
      [{ expect: '# ' }, { resize: [40, 120] }, { send: 'stty size\r', until: '40 120' }, { send: 'exit\r' }],
      ['run', '-it', '--rm', IMAGE, 'sh'],
    );
    assert.match(screen, /^40 120$/m, screen);
    assert.equal(code, 0);
  });

  test('attach to a running container; ctrl-p ctrl-q leaves it running', () => {
    raindOk(['run', '-dit', '--name', 'box', IMAGE, 'sh']);
    const { screen, code } = onTerminal(
      24,
      80,
      [{ send: 'echo attached-$((40+2))\r', until: 'attached-42' }, { send: '\x10\x11' }],
      ['attach', 'box'],
    );
    assert.equal(code, 0, screen);
    assert.equal(status('box'), 'running', 'detaching leaves the container running');
    /* a second client through `container attach`, with keys of its own */
    const again = onTerminal(
      24,
      80,
      [{ send: 'echo again-$((1+1))\r', until: 'again-2' }, { send: '\x01d' }],
      ['container', 'attach', '--detach-keys', 'ctrl-a,d', 'box'],
    );
    assert.equal(again.code, 0, again.screen);
    assert.equal(status('box'), 'running');
    raindOk(['rm', '-f', 'box']);
  });

  test('exec -it: a command on a terminal of its own inside the container, PID 1 the entrypoint', () => {
    raindOk(['run', '-dit', '--name', 'execbox', IMAGE, 'sh']);
    const { screen, code } = onTerminal(24, 80, [], ['exec', '-it', 'execbox', 'ps', '-ef']);
    assert.match(screen, /^\s*1\s+\S+\s+sh$/m, screen);
    assert.equal(code, 0);
    /* the command's terminal has this one's size from its first instruction */
    for (let i = 0; i < 5; i++) assert.match(onTerminal(33, 77, [], ['exec', '-it', 'execbox', 'stty', 'size']).screen, /^33 77\r?$/m);
    raindOk(['rm', '-f', 'execbox']);
  });

  test('start -a prints the output of a created container and exits with its code', () => {
    raindOk(['create', '--name', 'later', IMAGE, 'sh', '-c', 'echo from-start; echo oops >&2; exit 7']);
    const r = raind(['start', '-a', 'later']);
    assert.equal(r.stdout, 'from-start\n');
    assert.equal(r.stderr, 'oops\n');
    assert.equal(r.code, 7);
    /* again, once it has exited: a new run, attached from its start */
    const second = raind(['start', '-a', 'later']);
    assert.equal(second.stdout, 'from-start\n');
    assert.equal(second.code, 7);
    raindOk(['rm', 'later']);
  });

  test('refusals: a stopped container, bad detach keys', () => {
    raindOk(['create', '--name', 'idle', IMAGE, 'sh']);
    const stopped = raind(['attach', 'idle']);
    assert.notEqual(stopped.code, 0);
    assert.match(stopped.stderr, /cannot attach to a stopped container/);
    const keys = raind(['run', '-i', '--rm', '--detach-keys', 'ctrl-1', IMAGE, 'cat']);
    assert.notEqual(keys.code, 0);
    assert.match(keys.stderr, /--detach-keys: "ctrl-1" is not a key/);
    raindOk(['rm', 'idle']);
  });

  test('nothing is left behind: no processes, mounts or cgroups', () => {
    assert.deepEqual(mountsUnder(dir), []);
    assert.deepEqual(processesWith(root), []);
    assert.ok(seen.size >= 4, 'the containers the tests left were seen');
    const cgroups = readdirSync('/sys/fs/cgroup').flatMap((h) => [...seen].map((id) => join('/sys/fs/cgroup', h, 'raind', id)));
    assert.deepEqual(
      cgroups.filter((c) => existsSync(c)),
      [],
    );
  });
});
