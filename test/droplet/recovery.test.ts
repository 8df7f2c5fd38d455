import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseConfig, makeBundle, type Bundle } from '../helpers/bundle.js';
import { isLive, readCg, removeCgroupEverywhere, v1Dir } from '../helpers/cgroups.js';
import { droplet, dropletInBackground, ok, sleep, stateOf, uniqueId, waitFor } from '../helpers/droplet.js';
import { containerProcessesUnder, leftovers } from '../helpers/leaks.js';

/** A state directory droplet cannot read (no state.json, a corrupt one, a command killed at any
 * instant) is listed, never hidden, and `delete --force` removes everything of it: the init,
 * the hooks' processes, the cgroups, the directory. */

interface Listed {
  id: string;
  pid: number;
  status: string;
}

function listed(root: string, id: string): Listed | undefined {
  const r = ok(root, ['list', '--format', 'json']);
  return (JSON.parse(r.stdout) as Listed[]).find((c) => c.id === id);
}

/** delete --force succeeds, without waiting for a lock nobody holds, and leaves nothing. */
function forceDelete(b: Bundle, id: string, pids: number[] = []): void {
  const started = Date.now();
  ok(b.root, ['delete', '--force', id]);
  assert.ok(Date.now() - started < 5000, `delete --force took ${Date.now() - started} ms`);
  assert.deepEqual(leftovers(b.root, id, b.dir), []);
  for (const pid of pids) assert.equal(isLive(pid), false, `process ${pid} survived`);
}

/** One line naming the state file. */
function assertNamesStateFile(b: Bundle, id: string, stderr: string): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.ok(lines[0]?.includes(join(b.root, id, 'state.json')), stderr);
}

/** A hook script that records its pid and that of a child it starts, then waits. */
function slowHook(b: Bundle): string {
  const hook = join(b.dir, 'slow-hook.sh');
  writeFileSync(hook, '#!/bin/sh\necho $$ > "$1/hook.pid"\nsleep 600 &\necho $! > "$1/hook-child.pid"\nwait\n', { mode: 0o755 });
  return hook;
}

function hookPids(dir: string): number[] {
  return ['hook.pid', 'hook-child.pid'].map((f) => Number(readFileSync(join(dir, f), 'utf8')));
}

describe('a state directory without a readable state.json', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle((c) => (c.process.args = ['/bin/sleep', '30']));
  });
  after(() => b.cleanup());

  test('no state.json: list shows it, state names the file, delete --force removes it all, the id is free again', () => {
    const id = uniqueId('nostate');
    ok(b.root, ['create', '-b', b.dir, id]);
    const { pid } = stateOf(b.root, id);
    rmSync(join(b.root, id, 'state.json'));
    const entry = listed(b.root, id);
    assert.ok(entry, 'list shows it');
    assert.equal(entry.status, 'unknown', 'its init is alive');
    assert.equal(entry.pid, pid);
    const s = droplet(b.root, ['state', id]);
    assert.equal(s.code, 1);
    assertNamesStateFile(b, id, s.stderr);
    const d = droplet(b.root, ['delete', id]);
    assert.notEqual(d.code, 0, 'delete without --force refuses a container it cannot read');
    forceDelete(b, id, [pid]);
    ok(b.root, ['create', '-b', b.dir, id]);
    forceDelete(b, id);
  });

  test('an empty directory (a create killed right after claiming the id) is listed as stopped and removed', () => {
    const id = uniqueId('claimed');
    mkdirSync(join(b.root, id), { recursive: true });
    assert.equal(listed(b.root, id)?.status, 'stopped');
    forceDelete(b, id);
  });

  test('a lock file left torn by a killed command does not block: delete --force is immediate', () => {
    const id = uniqueId('torn-lock');
    ok(b.root, ['create', '-b', b.dir, id]);
    const { pid } = stateOf(b.root, id);
    writeFileSync(join(b.root, id, '.lock'), '');
    forceDelete(b, id, [pid]);
  });

  test('a create killed after its init was ready: unknown with the init pid, not stopped; delete --force removes it', () => {
    const id = uniqueId('half');
    ok(b.root, ['create', '-b', b.dir, id]);
    const { pid } = stateOf(b.root, id);
    /* what create leaves when it dies between the init's "ready" and its last write */
    const file = join(b.root, id, 'state.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), phase: 'creating' }));
    const s = stateOf(b.root, id);
    assert.equal(s.status, 'unknown');
    assert.equal(s.pid, pid);
    assert.equal(listed(b.root, id)?.status, 'unknown');
    assert.match(droplet(b.root, ['start', id]).stderr, /cannot start a container that is unknown \(it must be created\)\n$/);
    assert.match(
      droplet(b.root, ['delete', id]).stderr,
      /cannot delete a container that is unknown: its init may still run \(use --force\)\n$/,
    );
    forceDelete(b, id, [pid]);
  });

  test('a start killed between its byte and removing exec.fifo: running, not created', () => {
    const id = uniqueId('byte');
    ok(b.root, ['create', '-b', b.dir, id]);
    ok(b.root, ['start', id]);
    /* what start leaves when it dies after the byte, before the unlink */
    execFileSync('mkfifo', [join(b.root, id, 'exec.fifo')]);
    assert.equal(stateOf(b.root, id).status, 'running');
    assert.match(droplet(b.root, ['start', id]).stderr, /cannot start a container that is running/);
    ok(b.root, ['delete', '-f', id]);
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });
});

describe('a corrupt state.json', () => {
  let b: Bundle;
  let healthy: string;
  before(() => {
    b = makeBundle((c) => (c.process.args = ['/bin/sleep', '30']));
    healthy = uniqueId('healthy');
    ok(b.root, ['create', '-b', b.dir, healthy]);
  });
  after(() => {
    droplet(b.root, ['delete', '--force', healthy]);
    b.cleanup();
  });

  const variants: Record<string, (text: string) => string> = {
    empty: () => '',
    garbage: () => 'garbage\n',
    truncated: (t) => t.slice(0, t.length >> 1),
    null: () => 'null',
    'an array': () => '[1,2]',
    'an empty object': () => '{}',
    'a missing pid': (t) => JSON.stringify({ ...JSON.parse(t), pid: undefined }),
    'a pid as a string': (t) => JSON.stringify({ ...JSON.parse(t), pid: String(JSON.parse(t).pid) }),
    'cgroups that are not a list': (t) => JSON.stringify({ ...JSON.parse(t), cgroups: null }),
    'another id': (t) => JSON.stringify({ ...JSON.parse(t), id: 'someone-else' }),
  };

  for (const [name, corrupt] of Object.entries(variants)) {
    test(`${name}: list shows the others and marks it, state names the file, delete --force cleans it`, () => {
      const id = uniqueId('corrupt');
      ok(b.root, ['create', '-b', b.dir, id]);
      const { pid } = stateOf(b.root, id);
      const file = join(b.root, id, 'state.json');
      writeFileSync(file, corrupt(readFileSync(file, 'utf8')));
      try {
        const l = droplet(b.root, ['list', '--format', 'json']);
        assert.equal(l.code, 0, l.stderr);
        const all = JSON.parse(l.stdout) as Listed[];
        assert.equal(all.find((c) => c.id === healthy)?.status, 'created');
        assert.equal(all.find((c) => c.id === id)?.status, 'unknown');
        assert.match(l.stderr, new RegExp(`^droplet: warning: .*${file.replace(/[.]/g, '\\.')}.*\\n$`));
        assert.match(ok(b.root, ['list']).stdout, new RegExp(`^${id}\\s+\\d+\\s+unknown`, 'm'));

        const s = droplet(b.root, ['state', id]);
        assert.equal(s.code, 1);
        assertNamesStateFile(b, id, s.stderr);
        assert.doesNotMatch(s.stderr, /Cannot read properties|TypeError/);
      } finally {
        forceDelete(b, id, [pid]);
      }
      assert.equal(stateOf(b.root, healthy).status, 'created');
    });
  }
});

describe('droplet killed at any instant', () => {
  let b: Bundle;
  let createMs = 0;
  before(() => {
    b = makeBundle((c) => (c.process.args = ['/bin/sleep', '30']));
    const id = uniqueId('timing');
    const t = Date.now();
    ok(b.root, ['create', '-b', b.dir, id]);
    createMs = Date.now() - t;
    ok(b.root, ['delete', '--force', id]);
  });
  after(() => b.cleanup());

  test('kill -9 of create: list shows what is left, delete --force removes it', async () => {
    for (let i = 0; i <= 20; i++) {
      const id = uniqueId('kc');
      const { child, done } = dropletInBackground(b.root, ['create', '-b', b.dir, id]);
      await sleep(Math.round((createMs * 1.2 * i) / 20));
      child.kill('SIGKILL');
      await done;
      if (existsSync(join(b.root, id))) {
        const entry = listed(b.root, id);
        assert.ok(entry, `list shows ${id} (killed after ${i}/20 of a create)`);
        assert.ok(['unknown', 'stopped', 'created'].includes(entry.status), entry.status);
      }
      forceDelete(b, id);
    }
  });

  test('kill -9 of create during a createRuntime hook: delete --force removes the hook and its child', async () => {
    const c = baseConfig();
    c.process.args = ['/bin/sleep', '30'];
    c.hooks = { createRuntime: [{ path: slowHook(b), args: ['hook', b.dir] }] };
    b.write(c);
    const id = uniqueId('khook');
    rmSync(join(b.dir, 'hook-child.pid'), { force: true });
    const { child, done } = dropletInBackground(b.root, ['create', '-b', b.dir, id]);
    await waitFor(() => existsSync(join(b.dir, 'hook-child.pid')), 10000, 'the hook to start');
    const pids = hookPids(b.dir);
    child.kill('SIGKILL');
    await done;
    assert.ok(['unknown', 'stopped'].includes(listed(b.root, id)?.status ?? 'hidden'));
    forceDelete(b, id, pids);
  });

  test('kill -9 of start during a poststart hook: delete --force removes the container and the hook and its child', async () => {
    const c = baseConfig();
    c.process.args = ['/bin/sleep', '30'];
    c.hooks = { poststart: [{ path: slowHook(b), args: ['hook', b.dir] }] };
    b.write(c);
    const id = uniqueId('kstart');
    rmSync(join(b.dir, 'hook-child.pid'), { force: true });
    ok(b.root, ['create', '-b', b.dir, id]);
    const { pid } = stateOf(b.root, id);
    const { child, done } = dropletInBackground(b.root, ['start', id]);
    await waitFor(() => existsSync(join(b.dir, 'hook-child.pid')), 10000, 'the hook to start');
    const pids = hookPids(b.dir);
    child.kill('SIGKILL');
    await done;
    assert.equal(listed(b.root, id)?.status, 'running');
    forceDelete(b, id, [pid, ...pids]);
  });

  test('kill -9 of delete: list shows what is left, delete --force finishes the job', async () => {
    b.write(
      (() => {
        const c = baseConfig();
        c.process.args = ['/bin/sleep', '30'];
        return c;
      })(),
    );
    for (let i = 0; i <= 12; i++) {
      const id = uniqueId('kd');
      ok(b.root, ['run', '-d', '-b', b.dir, id]);
      const { pid } = stateOf(b.root, id);
      const { child, done } = dropletInBackground(b.root, ['delete', '--force', id]);
      await sleep(Math.round((createMs * i) / 12));
      child.kill('SIGKILL');
      await done;
      if (existsSync(join(b.root, id))) {
        const entry = listed(b.root, id);
        assert.ok(entry, `list shows ${id}`);
        assert.ok(['running', 'stopped', 'unknown'].includes(entry.status), entry.status);
      }
      forceDelete(b, id, [pid]);
    }
  });
});

describe('delete --force of a paused container', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle((c) => {
      /* the host PID namespace: killing the init does not take the others with it */
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'pid');
      c.process.args = ['/bin/sh', '-c', 'sleep 100 & sleep 100 & wait'];
    });
  });
  after(() => b.cleanup());

  const procsOf = (id: string) => readCg(v1Dir('pids', id), 'cgroup.procs').split('\n').filter(Boolean).map(Number);

  test('thaws, kills, waits for every process, then removes it', async () => {
    const id = uniqueId('paused');
    ok(b.root, ['run', '-d', '-b', b.dir, id]);
    await waitFor(() => procsOf(id).length === 3, 5000, 'the sleeps');
    const pids = procsOf(id);
    ok(b.root, ['pause', id]);
    forceDelete(b, id, pids);
    assert.deepEqual(containerProcessesUnder(b.dir), []);
  });

  test('a sub-cgroup the container froze itself is thawed too', async () => {
    const id = uniqueId('nested');
    ok(b.root, ['run', '-d', '-b', b.dir, id]);
    await waitFor(() => procsOf(id).length === 3, 5000, 'the sleeps');
    const pids = procsOf(id);
    const { pid } = stateOf(b.root, id);
    const sub = join(v1Dir('freezer', id), 'sub');
    mkdirSync(sub);
    writeFileSync(join(sub, 'cgroup.procs'), String(pids.find((p) => p !== pid)));
    writeFileSync(join(sub, 'freezer.state'), 'FROZEN');
    await waitFor(() => readCg(sub, 'freezer.state') === 'FROZEN', 5000, 'the sub-cgroup to freeze');
    ok(b.root, ['pause', id]);
    forceDelete(b, id, pids);
  });
});

describe("the suite's leak check", () => {
  test('reports a container process a test left behind, and kills it', () => {
    const b = makeBundle((c) => (c.process.args = ['/bin/sleep', '30']));
    const id = uniqueId('left');
    let pid = 0;
    try {
      ok(b.root, ['create', '-b', b.dir, id]);
      pid = stateOf(b.root, id).pid;
      ok(b.root, ['start', id]);
      ok(b.root, ['pause', id]);
      assert.deepEqual(containerProcessesUnder(b.dir), [pid]);
      const root = b.root;
      assert.throws(() => b.cleanup(), new RegExp(`container processes of ${b.dir} were left running: ${pid} \\(/bin/sleep 30\\)`));
      assert.equal(existsSync(root), false);
    } finally {
      /* the cgroups of the container whose state went with the bundle */
      for (let i = 0; i < 200 && isLive(pid); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      removeCgroupEverywhere(`/droplet/${id}`);
      b.cleanup();
    }
  });
});

describe('a full state root', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle((c) => (c.process.args = ['/bin/sleep', '30']));
  });
  after(() => b.cleanup());

  test('create fails with one line, and leaves nothing or what list shows and delete --force removes', () => {
    for (const limit of [
      'size=4k',
      'size=8k',
      'size=12k',
      'size=16k',
      'nr_inodes=2',
      'nr_inodes=3',
      'nr_inodes=4',
      'nr_inodes=5',
      'nr_inodes=6',
      'nr_inodes=7',
    ]) {
      const root = mkdtempSync(join(tmpdir(), 'droplet-full-root-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', limit, 'tmpfs', root]);
      try {
        const id = uniqueId('full');
        const r = droplet(root, ['create', '-b', b.dir, id]);
        if (r.code !== 0) {
          assert.equal(r.stderr.trim().split('\n').length, 1, `${limit}: ${r.stderr}`);
          assert.match(r.stderr, new RegExp(`^droplet: create ${id}: .*no space left on device`), limit);
        }
        if (existsSync(join(root, id))) assert.ok(listed(root, id), `${limit}: list shows ${id}`);
        ok(root, ['delete', '--force', id]);
        assert.deepEqual(leftovers(root, id, b.dir), [], limit);
      } finally {
        execFileSync('umount', [root]);
        rmSync(root, { recursive: true, force: true });
      }
    }
  });
});
