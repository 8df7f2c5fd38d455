import { readdirSync } from 'node:fs';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertGone, BUSYBOX_IMAGE, RaindEnv, storeEntries } from '../helpers/raind-containers.js';

let env: RaindEnv;
before(() => {
  env = new RaindEnv('raind-limits-');
});
after(() => env.destroy());

describe('raind container limits', () => {
  test('--memory 16m: a process that needs more is OOM-killed, and inspect says so', async () => {
    /* tail keeps the last line of its input: /dev/zero has no newline, so it holds all 100 MB */
    const r = env.run([
      'run',
      '--name',
      'oom',
      '--network',
      'none',
      '--memory',
      '16m',
      BUSYBOX_IMAGE,
      'sh',
      '-c',
      'head -c 100m /dev/zero | tail',
    ]);
    assert.equal(r.code, 137, r.stderr);
    const info = env.inspect('oom');
    assert.equal(info.State.Status, 'exited');
    assert.equal(info.State.ExitCode, 137);
    assert.equal(info.State.OOMKilled, true);
    /* conmon's own `oom` file stays in the container's directory */
    assert.deepEqual(readdirSync(env.cwd), []);
    env.ok(['rm', 'oom']);
    await assertGone(env, info.Id, 'oom');
  });

  test('without a limit the same command is no OOM kill', () => {
    const r = env.run(['run', '--name', 'roomy', '--network', 'none', BUSYBOX_IMAGE, 'sh', '-c', 'head -c 100m /dev/zero | tail | wc -c']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), String(100 * 1024 * 1024));
    const info = env.inspect('roomy');
    assert.equal(info.State.OOMKilled, false);
    env.ok(['rm', 'roomy']);
  });

  test('--read-only: writes to / fail, a --tmpfs on /tmp takes them', async () => {
    const r = env.run([
      'run',
      '--name',
      'ro',
      '--network',
      'none',
      '--read-only',
      '--tmpfs',
      '/tmp',
      BUSYBOX_IMAGE,
      'sh',
      '-c',
      'if touch /written 2>/dev/null; then echo root-writable; fi; echo kept > /tmp/f && cat /tmp/f',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'kept\n');
    const info = env.inspect('ro');
    env.ok(['rm', 'ro']);
    await assertGone(env, info.Id, 'ro');
    assert.deepEqual(storeEntries(env), []);
  });

  test('--read-only without --tmpfs: /tmp is read-only too', () => {
    const r = env.run(['run', '--rm', '--network', 'none', '--read-only', BUSYBOX_IMAGE, 'sh', '-c', 'echo x > /tmp/f']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Read-only file system/i);
  });
});
