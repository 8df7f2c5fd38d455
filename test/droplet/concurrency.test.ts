import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseConfig, makeBundle, type Bundle } from '../helpers/bundle.js';
import { droplet, dropletInBackground, ok, stateOf, uniqueId, waitFor } from '../helpers/droplet.js';
import { leftovers } from '../helpers/leaks.js';

/** Runs droplet commands at the same time; resolves with their exit codes and stderr. Output
 * goes to files, read once a command has exited: a pipe would be held open by the init a
 * create leaves (it inherits droplet's stdio), and read at 'exit' it may still hold the
 * message. */
function together(root: string, runs: string[][]): Promise<Array<{ code: number | null; stderr: string }>> {
  return Promise.all(runs.map((args) => dropletInBackground(root, args).done.then(({ code, stderr }) => ({ code, stderr }))));
}

function cgroupProcs(id: string): number[] {
  try {
    return readFileSync(`/sys/fs/cgroup/pids/droplet/${id}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe('concurrent commands on one container', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle((c) => (c.process.args = ['/bin/sleep', '30']));
  });
  after(() => b.cleanup());

  test('of several creates with one id exactly one wins, and the losers touch nothing', async () => {
    const id = uniqueId('race');
    const results = await together(
      b.root,
      Array.from({ length: 4 }, () => ['create', '-b', b.dir, id]),
    );
    const winners = results.filter((r) => r.code === 0);
    assert.equal(winners.length, 1, JSON.stringify(results));
    for (const r of results.filter((x) => x.code !== 0)) assert.match(r.stderr, /is already in use/);
    assert.equal(stateOf(b.root, id).status, 'created');
    ok(b.root, ['delete', '-f', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('of several starts exactly one starts the container', async () => {
    const id = uniqueId('starts');
    ok(b.root, ['create', '-b', b.dir, id]);
    const results = await together(
      b.root,
      Array.from({ length: 4 }, () => ['start', id]),
    );
    assert.equal(results.filter((r) => r.code === 0).length, 1, JSON.stringify(results));
    for (const r of results.filter((x) => x.code !== 0))
      assert.match(r.stderr, /cannot start a container that is running/, JSON.stringify(results));
    assert.equal(stateOf(b.root, id).status, 'running');
    ok(b.root, ['delete', '-f', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('state.json is never seen torn while commands run', async () => {
    const id = uniqueId('torn');
    ok(b.root, ['create', '-b', b.dir, id]);
    const readers = together(
      b.root,
      Array.from({ length: 6 }, () => ['state', id]),
    );
    const starter = together(b.root, [['start', id]]);
    const [states] = await Promise.all([readers, starter]);
    for (const r of states) assert.equal(r.code, 0, r.stderr);
    ok(b.root, ['delete', '-f', id]);
  });
});

describe('the per-container lock, held observably long by a slow createRuntime hook', () => {
  let b: Bundle;
  let started: string;
  before(() => {
    b = makeBundle();
    started = join(b.dir, 'hook-started');
    const hook = join(b.dir, 'slow-hook.sh');
    writeFileSync(hook, `#!/bin/sh\ntouch ${started}\nsleep 1\n`, { mode: 0o755 });
    const c = baseConfig();
    c.process.args = ['/bin/sleep', '30'];
    c.hooks = { createRuntime: [{ path: hook, args: ['slow-hook.sh'] }] };
    b.write(c);
  });
  after(() => b.cleanup());

  /** Starts a create and resolves once it is inside its hook, holding the lock. */
  async function createInHook(id: string) {
    rmSync(started, { force: true });
    const create = dropletInBackground(b.root, ['create', '-b', b.dir, id]);
    await waitFor(() => existsSync(started), 10000, 'the hook to run');
    return create;
  }

  test('while create holds it the container is "creating", and a start waits for it, then starts', async () => {
    const id = uniqueId('held');
    const create = await createInHook(id);
    assert.equal(stateOf(b.root, id).status, 'creating');
    const start = await dropletInBackground(b.root, ['start', id]).done;
    const created = await create.done;
    assert.equal(created.code, 0, created.stderr);
    assert.equal(start.code, 0, start.stderr);
    assert.equal(stateOf(b.root, id).status, 'running');
    ok(b.root, ['delete', '--force', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('a delete --force waits for the create, then removes the whole container', async () => {
    const id = uniqueId('heldd');
    const create = await createInHook(id);
    const del = await dropletInBackground(b.root, ['delete', '--force', id]).done;
    const created = await create.done;
    assert.equal(created.code, 0, created.stderr);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(droplet(b.root, ['state', id]).code, 1);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });
});

describe('kill --all and delete --force reach every process of the container', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle((c) => {
      /* the host PID namespace: killing the init does not take its children with it */
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'pid');
      c.process.args = ['/bin/sh', '-c', 'sleep 100 & sleep 100 & sleep 100'];
    });
  });
  after(() => b.cleanup());

  test('kill --all signals every process in the cgroup', async () => {
    const id = uniqueId('all');
    ok(b.root, ['create', '-b', b.dir, id]);
    ok(b.root, ['start', id]);
    await waitFor(() => cgroupProcs(id).length >= 3, 5000, 'the sleeps');
    ok(b.root, ['kill', '--all', id, 'KILL']);
    await waitFor(() => cgroupProcs(id).length === 0, 5000, 'every process to die');
    ok(b.root, ['delete', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('delete --force leaves no process of a container in the host PID namespace', async () => {
    const id = uniqueId('force');
    ok(b.root, ['create', '-b', b.dir, id]);
    ok(b.root, ['start', id]);
    await waitFor(() => cgroupProcs(id).length >= 3, 5000, 'the sleeps');
    const pids = cgroupProcs(id);
    ok(b.root, ['delete', '--force', id]);
    for (const pid of pids) {
      let alive = false;
      try {
        alive = !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        /* gone */
      }
      assert.equal(alive, false, `pid ${pid} survived`);
    }
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('a plain kill signals only the init', async () => {
    const id = uniqueId('one');
    ok(b.root, ['create', '-b', b.dir, id]);
    ok(b.root, ['start', id]);
    await waitFor(() => cgroupProcs(id).length >= 3, 5000, 'the sleeps');
    const { pid } = stateOf(b.root, id);
    ok(b.root, ['kill', id, 'KILL']);
    await waitFor(() => stateOf(b.root, id).status === 'stopped', 5000, 'the init to die');
    assert.ok(cgroupProcs(id).filter((p) => p !== pid).length >= 1, 'the other processes live on');
    /* delete of a stopped container still clears what is left in its cgroup */
    ok(b.root, ['delete', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
    assert.equal(droplet(b.root, ['state', id]).code, 1);
  });
});
