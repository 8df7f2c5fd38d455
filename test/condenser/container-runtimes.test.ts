import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertGone, BUSYBOX_IMAGE, RaindEnv, storeEntries } from '../helpers/raind-containers.js';

/* crun 1.8 refuses a hybrid cgroup host while cgroup2 has any controller. In a mount
 * namespace of the test's own, an empty file over cgroup.controllers hides them from it;
 * every raind of this suite runs in that namespace (nsenter), so the mounts it makes and
 * the cgroup view its runtimes get are the same from create to rm. */
let holder: ReturnType<typeof spawn> | undefined;
let scratch: string;
let env: RaindEnv;
before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'raind-runtimes-ns-'));
  const empty = join(scratch, 'empty');
  writeFileSync(empty, '');
  holder = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      `f=/sys/fs/cgroup/unified/cgroup.controllers; if [ -s "$f" ] || [ -n "$(cat "$f" 2>/dev/null)" ]; then mount --bind ${empty} "$f" || exit 1; fi; echo ready; exec sleep 100000`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    holder?.stdout?.once('data', () => resolve());
    holder?.once('exit', (code) => reject(new Error(`the namespace holder exited ${code}`)));
  });
  env = new RaindEnv('raind-runtimes-', ['nsenter', `--mount=/proc/${holder.pid}/ns/mnt`, '--']);
});
after(() => {
  env?.destroy();
  holder?.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

describe('raind --runtime', () => {
  for (const runtime of ['runc', 'crun']) {
    const installed = spawnSync(runtime, ['--version']).status === 0;
    test(`${runtime}: a container runs to completion with its exit code and logs, and rm removes its state`, {
      skip: !installed && `${runtime} is not installed`,
    }, async () => {
      const name = `with-${runtime}`;
      const r = env.run([
        'run',
        '--name',
        name,
        '--network',
        'none',
        '--runtime',
        runtime,
        BUSYBOX_IMAGE,
        'sh',
        '-c',
        'echo out-line; echo err-line >&2; exit 3',
      ]);
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stdout, 'out-line\n');
      assert.match(r.stderr, /err-line/);
      const info = env.inspect(name);
      assert.equal(info.State.Status, 'exited');
      assert.equal(info.State.ExitCode, 3);
      const logs = env.ok(['logs', name]);
      assert.equal(logs.stdout, 'out-line\n');
      assert.equal(logs.stderr, 'err-line\n');
      /* the runtime keeps its state under the run root; cleanup already dropped it */
      const stateRoot = join(env.runRoot, 'runtimes', runtime);
      assert.equal(spawnSync(runtime, [`--root=${stateRoot}`, 'state', info.Id]).status === 0, false, `${runtime} still has ${info.Id}`);
      env.ok(['rm', name]);
      await assertGone(env, info.Id, name, `/proc/${holder?.pid}/mountinfo`);

      /* a created one: the runtime holds it until rm -f */
      const created = env.ok(['create', '--network', 'none', '--runtime', runtime, BUSYBOX_IMAGE, 'sleep', '600']).stdout.trim();
      const state = spawnSync(runtime, [`--root=${stateRoot}`, 'state', created], { encoding: 'utf8' });
      assert.equal(state.status, 0, state.stderr);
      assert.equal((JSON.parse(state.stdout) as { status: string }).status, 'created');
      env.ok(['rm', '-f', created]);
      assert.deepEqual(readdirSync(stateRoot), []);
      await assertGone(env, created, undefined, `/proc/${holder?.pid}/mountinfo`);
      assert.deepEqual(storeEntries(env), []);
    });
  }
});
