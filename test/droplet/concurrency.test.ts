import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { makeBundle, type Bundle } from '../helpers/bundle.js';
import { DROPLET, droplet, ok, stateOf, testEnv, uniqueId, waitFor } from '../helpers/droplet.js';
import { leftovers } from '../helpers/leaks.js';

/** Runs droplet commands at the same time; resolves with their exit codes and stderr. */
function together(root: string, runs: string[][]): Promise<Array<{ code: number | null; stderr: string }>> {
  return Promise.all(runs.map((args) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(DROPLET, ['--root', root, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: testEnv() });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stderr }));
  })));
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
    const results = await together(b.root, Array.from({ length: 4 }, () => ['create', '-b', b.dir, id]));
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
    const results = await together(b.root, Array.from({ length: 4 }, () => ['start', id]));
    assert.equal(results.filter((r) => r.code === 0).length, 1, JSON.stringify(results));
    for (const r of results.filter((x) => x.code !== 0)) assert.match(r.stderr, /cannot start a container that is running/);
    assert.equal(stateOf(b.root, id).status, 'running');
    ok(b.root, ['delete', '-f', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('state.json is never seen torn while commands run', async () => {
    const id = uniqueId('torn');
    ok(b.root, ['create', '-b', b.dir, id]);
    const readers = together(b.root, Array.from({ length: 6 }, () => ['state', id]));
    const starter = together(b.root, [['start', id]]);
    const [states] = await Promise.all([readers, starter]);
    for (const r of states) assert.equal(r.code, 0, r.stderr);
    ok(b.root, ['delete', '-f', id]);
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
