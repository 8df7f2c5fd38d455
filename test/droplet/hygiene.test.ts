import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseConfig, makeBundle, type Bundle } from '../helpers/bundle.js';
import { cmdline, DROPLET, droplet, ok, REPO, stateOf, testEnv, uniqueId, waitFor } from '../helpers/droplet.js';
import { leftovers } from '../helpers/leaks.js';

/** The fds a process holds: fd number -> what it points to. */
function fdsOf(pid: number): Map<number, string> {
  const out = new Map<number, string>();
  for (const e of readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.set(Number(e), readlinkSync(`/proc/${pid}/fd/${e}`));
    } catch {
      /* closed while we looked */
    }
  }
  return out;
}

/** Runs `droplet create` from a shell that holds fds 200 and 300 on `file` (200 with an
 * exclusive flock) and fd 3 for --preserve-fds 1, with a marker in the environment. wrap
 * goes before droplet on its command line. */
function createHolding(b: Bundle, id: string, file: string, wrap: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'droplet-hygiene-'));
  const err = openSync(join(dir, 'err'), 'w');
  try {
    const script = 'exec 200<"$1" 300<"$1" 3<"$1"; flock -x 200; shift; exec "$@"';
    const r = spawnSync(
      'bash',
      ['-c', script, 'bash', file, ...wrap, DROPLET, '--root', b.root, 'create', '--preserve-fds', '1', '-b', b.dir, id],
      {
        stdio: ['ignore', 'ignore', err],
        env: { ...testEnv(), DROPLET_TEST_MARKER: 'the caller only' },
        timeout: 60_000,
      },
    );
    return { code: r.status, stderr: readFileSync(join(dir, 'err'), 'utf8') };
  } finally {
    closeSync(err);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The caller's lock is free: flock -n succeeds at once. */
function lockIsFree(file: string): boolean {
  return spawnSync('flock', ['-n', '-x', file, 'true']).status === 0;
}

describe('fd and environment hygiene of the waiting init', () => {
  let b: Bundle;
  let lock: string;
  before(() => {
    b = makeBundle();
    lock = join(b.dir, 'caller.lock');
    writeFileSync(lock, '');
    const c = baseConfig();
    c.process.args = ['/bin/sleep', '60'];
    b.write(c);
  });
  after(() => b.cleanup());

  test("while it waits, the init holds stdio, the --preserve-fds fds and its FIFO only; the caller's lock is free once create returns", () => {
    const id = uniqueId('fds');
    const r = createHolding(b, id, lock);
    assert.equal(r.code, 0, r.stderr);
    try {
      const { pid } = stateOf(b.root, id);
      const fds = fdsOf(pid);
      assert.ok(!fds.has(200) && !fds.has(300), `the caller's fds 200 and 300 reached the init: ${[...fds.keys()]}`);
      assert.equal(fds.get(3), lock, 'the --preserve-fds fd is kept');
      for (const [fd, target] of fds) if (fd > 3) assert.match(target, /exec\.fifo$/, `fd ${fd} -> ${target}`);
      assert.ok(lockIsFree(lock), 'the flock the caller held is released when create returns (the init does not hold it)');
    } finally {
      droplet(b.root, ['delete', '-f', id]);
      assert.deepEqual(leftovers(b.root, id, b.dir), []);
    }
  });

  test("the init's environment carries only what it needs, not the caller's", () => {
    const id = uniqueId('env');
    const r = createHolding(b, id, lock);
    assert.equal(r.code, 0, r.stderr);
    try {
      const { pid } = stateOf(b.root, id);
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
      assert.ok(
        !environ.some((e) => e.startsWith('DROPLET_TEST_MARKER=')),
        `the caller's environment reached the init: ${environ.join(' ')}`,
      );
      assert.deepEqual(
        environ.map((e) => e.slice(0, e.indexOf('='))),
        ['DROPLET_SYNC_FD'],
      );
    } finally {
      droplet(b.root, ['delete', '-f', id]);
      assert.deepEqual(leftovers(b.root, id, b.dir), []);
    }
  });

  test('on a kernel without close_range, nothing leaks either: the init and the container hold only what they should', async () => {
    const id = uniqueId('ncr');
    const r = createHolding(b, id, lock, ['python3', join(REPO, 'test', 'helpers', 'no-close-range.py')]);
    assert.equal(r.code, 0, r.stderr);
    try {
      const { pid } = stateOf(b.root, id);
      const waiting = fdsOf(pid);
      assert.ok(!waiting.has(200) && !waiting.has(300), `the caller's fds reached the init: ${[...waiting.keys()]}`);
      ok(b.root, ['start', id]);
      /* start returns once the byte is written: the init execs a moment later */
      await waitFor(() => !cmdline(pid).startsWith('droplet init'), 5000, 'the init to exec the entrypoint');
      const running = fdsOf(pid);
      assert.deepEqual(
        [...running.keys()].sort((x, y) => x - y),
        [0, 1, 2, 3],
        `the container holds ${[...running.entries()].map(([f, t]) => `${f}->${t}`).join(', ')}`,
      );
      assert.equal(running.get(3), lock);
    } finally {
      droplet(b.root, ['delete', '-f', id]);
      assert.deepEqual(leftovers(b.root, id, b.dir), []);
    }
  });
});
