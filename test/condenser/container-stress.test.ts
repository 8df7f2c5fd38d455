import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { testEnv } from '../helpers/droplet.js';
import { assertGone, BUSYBOX_IMAGE, RaindEnv, storeEntries, until } from '../helpers/raind-containers.js';

let env: RaindEnv;
before(() => {
  env = new RaindEnv('raind-stress-');
});
after(() => env.destroy());

describe('raind containers under load', () => {
  test('20 containers started at once all run, and all are removed without a trace', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `many${i}`);
    const started = await Promise.all(
      names.map((n) => env.runAsync(['run', '-d', '--name', n, '--network', 'none', BUSYBOX_IMAGE, 'sleep', '600'])),
    );
    for (const [i, r] of started.entries()) assert.equal(r.code, 0, `run -d ${names[i]}: ${r.stderr}`);
    const ids = started.map((r) => r.stdout.trim());
    assert.equal(new Set(ids).size, 20);
    for (const n of names) {
      const info = env.inspect(n);
      assert.equal(info.State.Status, 'running', n);
      assert.ok(isAlive(info.State.Pid), `${n}: its init ${info.State.Pid} runs`);
    }
    const removed = await Promise.all(names.map((n) => env.runAsync(['rm', '-f', n])));
    for (const [i, r] of removed.entries()) assert.equal(r.code, 0, `rm -f ${names[i]}: ${r.stderr}`);
    assert.deepEqual(env.ids(), []);
    for (const [i, id] of ids.entries()) await assertGone(env, id, names[i]);
  });
});

describe('raind run --rm', () => {
  test("exits with the container's code, however soon the cleanup removed it, 10 times side by side", async () => {
    const runs = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        env.runAsync(['run', '--rm', '--network', 'none', BUSYBOX_IMAGE, 'sh', '-c', `echo run${i}; exit ${i + 1}`]),
      ),
    );
    for (const [i, r] of runs.entries()) {
      assert.equal(r.code, i + 1, r.stderr);
      assert.equal(r.stdout, `run${i}\n`);
    }
    assert.deepEqual(env.ids(), []);
    assert.deepEqual(storeEntries(env), []);
  });
});

describe('raind create killed midway', () => {
  /* kill -9 at a spread of moments, from before the record exists to after conmon has the
   * init waiting on exec.fifo (a create takes about 100-300 ms here) */
  for (const delayMs of [0, 40, 80, 120, 160, 240, 400]) {
    test(`killed after ${delayMs} ms: ps -a tells the truth and rm -f leaves nothing`, async () => {
      const name = `killed${delayMs}`;
      const [cmd = '', ...args] = env.argv(['create', '--name', name, '--network', 'none', BUSYBOX_IMAGE, 'sleep', '600']);
      const child = spawn(cmd, args, { env: testEnv(), stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      await new Promise((r) => setTimeout(r, delayMs));
      child.kill('SIGKILL');
      await exited;

      try {
        await checkAndRemove(name);
      } finally {
        /* a failure leaves nothing for the next kill point to count */
        const ids = env.ids();
        if (ids.length > 0) env.run(['rm', '-f', ...ids]);
      }
    });
  }

  /* and at given steps: while raind runs mount (the root) — a mount(8) of the test's own,
   * first in PATH, that says it was called and then waits, so the step is caught every
   * time — and once the runtime's init waits on exec.fifo (raind has yet to record it) */
  const mountMarker = () => join(env.dir, 'mount-called');
  const steps: [string, (raindPid: number) => boolean][] = [
    ['mounting the root', () => existsSync(mountMarker()) && readFileSync(mountMarker(), 'utf8').endsWith('\n')],
    ['the init waiting', () => initsUnder(env.root).length > 0],
  ];
  for (const [step, reached] of steps) {
    test(`killed at ${step}: ps -a tells the truth and rm -f leaves nothing`, async () => {
      const name = `killed-${step.replace(/ /g, '-')}`;
      const [cmd = '', ...args] = env.argv(['create', '--name', name, '--network', 'none', BUSYBOX_IMAGE, 'sleep', '600']);
      const stalling = step === 'mounting the root';
      const fakeBin = join(env.dir, 'stalling-mount');
      if (stalling) {
        mkdirSync(fakeBin, { recursive: true });
        writeFileSync(join(fakeBin, 'mount'), `#!/bin/sh\necho $$ > '${mountMarker()}'\nexec sleep 600\n`, { mode: 0o755 });
      }
      const raindEnv = stalling ? { ...testEnv(), PATH: `${fakeBin}:${process.env.PATH ?? ''}` } : testEnv();
      const raind = spawn(cmd, args, { env: raindEnv, stdio: 'ignore' });
      let gone = false;
      const exited = new Promise((r) => raind.once('exit', r)).then(() => {
        gone = true;
      });
      try {
        while (!gone && !reached(raind.pid ?? 0)) await new Promise((r) => setImmediate(r));
        const seen = !gone;
        raind.kill('SIGKILL');
        await exited;
        if (stalling && existsSync(mountMarker())) {
          /* the stalled mount(8), left without its parent */
          const pid = Number(readFileSync(mountMarker(), 'utf8').trim());
          if (pid > 0) spawnSync('kill', ['-9', String(pid)]);
          rmSync(mountMarker(), { force: true });
        }
        assert.ok(seen, `raind ended before ${step}`);
        await checkAndRemove(name);
      } finally {
        const ids = env.ids();
        if (ids.length > 0) env.run(['rm', '-f', ...ids]);
      }
    });
  }

  test('a directory a create left without its record is listed dead, and rm -f removes it', async () => {
    /* what a create killed between claiming the id and writing the record leaves */
    const id = '01aaaaaaaaaa';
    mkdirSync(join(env.root, 'containers', id), { recursive: true });
    writeFileSync(join(env.root, 'containers', id, 'container.json.123.tmp'), '{"Id":');
    mkdirSync(join(env.runRoot, 'containers', id), { recursive: true });
    mkdirSync(join(env.root, 'names'), { recursive: true });
    symlinkSync(id, join(env.root, 'names', 'half-made'));

    /* while a create holds its lock it is being made: not listed */
    const holder = spawn('sh', ['-c', 'exec 9<"$0" && flock 9 && exec sleep 60', join(env.runRoot, 'containers', id)], { stdio: 'ignore' });
    await until(() => lockedByOther(join(env.runRoot, 'containers', id)), 'flock to take the lock');
    assert.deepEqual(env.ids(), []);
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));

    const listed = JSON.parse(env.ok(['ps', '-a', '--format', 'json']).stdout) as { ID: string; State: string; Names: string[] }[];
    assert.deepEqual(
      listed.map((c) => [c.ID, c.State]),
      [[id, 'dead']],
    );
    assert.equal(env.inspect('half-made').State.Status, 'dead');
    env.ok(['rm', '-f', 'half-made']);
    assert.deepEqual(env.ids(), []);
    assert.deepEqual(storeEntries(env), []);
  });

  async function checkAndRemove(name: string): Promise<void> {
    const listed = JSON.parse(env.ok(['ps', '-a', '--format', 'json']).stdout || '[]') as { ID: string; State: string }[];
    const ids = env.ids();
    assert.ok(ids.length <= 1, `one create makes at most one container: ${ids.join(', ')}`);
    for (const id of ids) {
      const info = env.inspect(id);
      assert.ok(['created', 'exited', 'dead'].includes(info.State.Status), `${id} is ${info.State.Status}`);
      /* a pid it names is alive: no state claims a process that is gone */
      if (info.State.Pid > 0) assert.ok(isAlive(info.State.Pid), `${id}: pid ${info.State.Pid} is gone`);
      assert.ok(
        listed.some((c) => c.ID === id),
        `ps -a lists ${id}`,
      );
    }
    if (ids.length > 0) env.ok(['rm', '-f', ...ids]);
    assert.deepEqual(env.ids(), []);
    /* conmon, if it got as far, exits once its container is gone */
    for (const id of ids) await assertGone(env, id, name);
    /* nothing at all under the store is left of it, named or not */
    assert.deepEqual(storeEntries(env), []);
    /* the name is free again */
    env.ok(['create', '--name', name, '--network', 'none', BUSYBOX_IMAGE, 'true']);
    env.ok(['rm', '-f', name]);
  }
});

/** droplet's inits waiting on an exec.fifo under dir. */
function initsUnder(dir: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const args = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (args[0] === 'droplet' && args[1] === 'init' && (args[3] ?? '').startsWith(`${dir}/`)) out.push(Number(e));
    } catch {}
  }
  return out;
}

/** Someone holds an flock on the directory (this process cannot take it). */
function lockedByOther(dir: string): boolean {
  return spawnSync('flock', ['-n', dir, 'true']).status === 1;
}

function isAlive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
