import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertGone, BUSYBOX_IMAGE, RaindEnv, storeEntries, until } from '../helpers/raind-containers.js';

let env: RaindEnv;
before(() => {
  env = new RaindEnv('raind-restart-');
});
after(() => env.destroy());

describe('raind restart policies', () => {
  test('--restart on-failure:2 with a command that exits 1 runs 3 times: 2 restarts, then exited 1', async () => {
    const id = env
      .ok(['run', '-d', '--name', 'flaky', '--network', 'none', '--restart', 'on-failure:2', BUSYBOX_IMAGE, 'sh', '-c', 'echo ran; exit 1'])
      .stdout.trim();
    /* wait returns once no restart is due any more */
    const waited = env.ok(['wait', 'flaky'], 60_000);
    assert.equal(waited.stdout.trim(), '1');
    const info = env.inspect('flaky');
    assert.equal(info.RestartCount, 2);
    assert.equal(info.State.Status, 'exited');
    assert.equal(info.State.ExitCode, 1);
    /* every run logged its line: three runs, no fourth */
    assert.equal(env.ok(['logs', 'flaky']).stdout, 'ran\nran\nran\n');
    env.ok(['rm', 'flaky']);
    await assertGone(env, id, 'flaky');
  });

  test('--restart on-failure:2 with a command that succeeds does not restart', () => {
    env.ok(['run', '-d', '--name', 'fine', '--network', 'none', '--restart', 'on-failure:2', BUSYBOX_IMAGE, 'true']);
    assert.equal(env.ok(['wait', 'fine'], 60_000).stdout.trim(), '0');
    assert.equal(env.inspect('fine').RestartCount, 0);
    env.ok(['rm', 'fine']);
  });

  test('--restart always restarts a command that exits until stop', async () => {
    const id = env
      .ok(['run', '-d', '--name', 'looping', '--network', 'none', '--restart', 'always', BUSYBOX_IMAGE, 'sh', '-c', 'sleep 0.2; exit 0'])
      .stdout.trim();
    await until(() => env.inspect('looping').RestartCount >= 3, 'three restarts');
    env.ok(['stop', '-t', '1', 'looping'], 60_000);
    /* a restart under way when stop came must not bring it back */
    const count = env.inspect('looping').RestartCount;
    await new Promise((r) => setTimeout(r, 1500));
    const info = env.inspect('looping');
    assert.equal(info.State.Status, 'exited');
    assert.equal(info.State.Running, false);
    assert.equal(info.RestartCount, count);
    env.ok(['rm', 'looping']);
    await assertGone(env, id, 'looping');
    assert.deepEqual(storeEntries(env), []);
  });
});
