import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeBundle, type Bundle } from '../helpers/bundle.js';
import { cgroupsAt, foreignProcess, hierarchies, isLive, makeCgroupEverywhere, removeCgroupEverywhere } from '../helpers/cgroups.js';
import { DROPLET, droplet, dropletInBackground, ok, stateOf, testEnv, uniqueId, waitFor } from '../helpers/droplet.js';
import { leftovers } from '../helpers/leaks.js';
import { configWith, expectRefused } from '../helpers/refused.js';

/** linux.cgroupsPath may name any cgroup of the host: droplet signals and removes only what it
 * made for the container. Every sandbox here is the test's own, named after its pid. */

let sandboxes = 0;
const sandbox = () => `/droplet-sandbox-${process.pid}-${++sandboxes}`;

const config = configWith;
const sleeper = (mutate: (c: any) => void = () => {}) =>
  config((c) => {
    c.process.args = ['/bin/sleep', '30'];
    mutate(c);
  });

/** A create that should have been refused but was not: removed without `droplet delete`, which
 * would signal whatever its cgroup holds. */
function removeByHand(root: string, id: string): void {
  const state = droplet(root, ['state', id]);
  if (state.code === 0) {
    const { pid } = JSON.parse(state.stdout);
    if (pid > 1) process.kill(pid, 'SIGKILL');
  }
  rmSync(join(root, id), { recursive: true, force: true });
}

describe('linux.cgroupsPath naming a cgroup droplet does not own', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test('a cgroup whose sub-cgroup holds a process is refused at create; the process and the cgroups stay', async () => {
    const top = sandbox();
    const victim = await foreignProcess(`${top}/victim`);
    try {
      /* a config that would also fail late, after droplet made or joined the cgroups */
      expectRefused(
        b,
        sleeper((c) => {
          c.linux.cgroupsPath = top;
          c.linux.resources.cpu = { realtimeRuntime: 5000 };
        }),
        new RegExp(`: cgroup /sys/fs/cgroup/[\\w,=]+${top} already holds 1 process \\(linux\\.cgroupsPath\\)$`),
      );
      assert.ok(victim.alive(), 'the foreign process lives');
      assert.equal(cgroupsAt(`${top}/victim`).length, hierarchies().length, 'the sandbox stays in every hierarchy');
    } finally {
      await victim.cleanup();
    }
  });

  test('the cgroup of a foreign process itself is refused, with a config that would succeed', async () => {
    const top = sandbox();
    const victim = await foreignProcess(top);
    try {
      expectRefused(
        b,
        sleeper((c) => (c.linux.cgroupsPath = top)),
        /already holds 1 process \(linux\.cgroupsPath\)$/,
      );
      assert.ok(victim.alive(), 'the foreign process lives');
      assert.equal(cgroupsAt(top).length, hierarchies().length);
    } finally {
      await victim.cleanup();
    }
  });

  test("another container's cgroup is refused: deleting the second cannot kill the first", () => {
    const path = `${sandbox()}/shared`;
    b.write(sleeper((c) => (c.linux.cgroupsPath = path)));
    const first = uniqueId('first');
    ok(b.root, ['create', '-b', b.dir, first]);
    try {
      const second = uniqueId('second');
      const r = droplet(b.root, ['create', '-b', b.dir, second]);
      if (r.code === 0) droplet(b.root, ['delete', '--force', second]);
      assert.notEqual(r.code, 0, 'the second create must fail');
      assert.match(
        r.stderr,
        new RegExp(`^droplet: create ${second}: cgroup /sys/fs/cgroup/\\S+${path} already holds 1 process \\(linux\\.cgroupsPath\\)\\n$`),
      );
      assert.deepEqual(leftovers(b.root, second, b.dir), []);
      assert.equal(stateOf(b.root, first).status, 'created');
      assert.ok(isLive(stateOf(b.root, first).pid));
      ok(b.root, ['delete', '--force', first]);
      /* the first made its cgroup: it removes it */
      assert.deepEqual(cgroupsAt(path), []);
      assert.deepEqual(leftovers(b.root, first, b.dir), []);
    } finally {
      droplet(b.root, ['delete', '--force', first]);
      removeCgroupEverywhere(path.split('/').slice(0, 2).join('/'));
    }
  });

  test('an empty cgroup that existed before is joined, but delete leaves it and what later entered it', async () => {
    const top = sandbox();
    makeCgroupEverywhere(top);
    b.write(sleeper((c) => (c.linux.cgroupsPath = top)));
    const id = uniqueId('joined');
    let victim: Awaited<ReturnType<typeof foreignProcess>> | undefined;
    try {
      ok(b.root, ['create', '-b', b.dir, id]);
      const { pid } = stateOf(b.root, id);
      assert.ok(
        readFileSync(join('/sys/fs/cgroup/pids', top, 'cgroup.procs'), 'utf8')
          .split('\n')
          .includes(String(pid)),
      );
      /* someone else's process enters the cgroup afterwards */
      victim = await foreignProcess(`${top}/victim`);
      ok(b.root, ['delete', '--force', id]);
      assert.equal(isLive(pid), false, 'the init is killed');
      assert.ok(victim.alive(), 'the foreign process lives');
      assert.equal(cgroupsAt(top).length, hierarchies().length, 'the cgroup droplet did not make stays');
      assert.deepEqual(leftovers(b.root, id, b.dir), []);
    } finally {
      droplet(b.root, ['delete', '--force', id]);
      if (victim) await victim.cleanup();
      removeCgroupEverywhere(top);
    }
  });

  test('the root of a hierarchy is refused at create (never deleted: it holds every process)', () => {
    for (const path of ['/', '//', '/.']) {
      /* no resources: should create wrongly succeed, it must not write to the root cgroups */
      b.write(
        sleeper((c) => {
          c.linux.cgroupsPath = path;
          delete c.linux.resources;
        }),
      );
      const id = uniqueId('root');
      const r = droplet(b.root, ['create', '-b', b.dir, id]);
      if (r.code === 0) removeByHand(b.root, id);
      assert.notEqual(r.code, 0, `create with cgroupsPath "${path}" must fail`);
      assert.match(
        r.stderr,
        new RegExp(`^droplet: create ${id}: cgroup /sys/fs/cgroup/\\S+ is the root of its hierarchy \\(linux\\.cgroupsPath\\)\\n$`),
      );
      assert.equal(existsSync(join(b.root, id)), false);
    }
  });

  test("an ancestor of droplet's own cgroup is refused at create", async () => {
    const top = sandbox();
    makeCgroupEverywhere(`${top}/droplet`);
    b.write(
      sleeper((c) => {
        c.linux.cgroupsPath = top;
        delete c.linux.resources;
      }),
    );
    const id = uniqueId('ancestor');
    /* droplet runs in <top>/droplet in every hierarchy */
    const script = `for h in ${hierarchies().join(' ')}; do echo $$ > $h${top}/droplet/cgroup.procs; done; exec "$@"`;
    const err = join(b.dir, 'ancestor.err');
    const fd = openSync(err, 'w');
    /* stderr to a file: a container wrongly created would hold a pipe open */
    const child = spawn('/bin/sh', ['-c', script, 'sh', DROPLET, '--root', b.root, 'create', '-b', b.dir, id], {
      stdio: ['ignore', 'ignore', fd],
      env: testEnv(),
    });
    closeSync(fd);
    const code = await new Promise((r) => child.on('exit', r));
    const stderr = readFileSync(err, 'utf8');
    try {
      if (code === 0) removeByHand(b.root, id);
      assert.notEqual(code, 0, 'create must fail');
      assert.match(
        stderr,
        new RegExp(
          `^droplet: create ${id}: cgroup /sys/fs/cgroup/\\S+${top} contains droplet's own cgroup ${top}/droplet \\(linux\\.cgroupsPath\\)\\n$`,
        ),
      );
      assert.deepEqual(leftovers(b.root, id, b.dir), []);
    } finally {
      await waitFor(
        () =>
          cgroupsAt(top).every(
            (d) => readFileSync(join(d, 'droplet', 'cgroup.procs'), 'utf8') === '' && readFileSync(join(d, 'cgroup.procs'), 'utf8') === '',
          ),
        5000,
        'the sandbox to empty',
      );
      removeCgroupEverywhere(top);
    }
  });
});

describe('what droplet signals', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle((c) => (c.process.args = ['/bin/sleep', '30']));
  });
  after(() => b.cleanup());

  test('a pid read as 0 or garbage from cgroup.procs is never signalled (kill(0) would hit droplet itself)', async () => {
    const id = uniqueId('garbage');
    ok(b.root, ['create', '-b', b.dir, id]);
    const file = join(b.root, id, 'state.json');
    const saved = readFileSync(file, 'utf8');
    const fake = mkdtempSync(join(tmpdir(), 'droplet-fake-procs-'));
    try {
      writeFileSync(join(fake, 'cgroup.procs'), '0\nnot-a-pid\n\n');
      const st = JSON.parse(saved);
      for (const cg of st.cgroups) cg.dir = fake;
      writeFileSync(file, JSON.stringify(st));
      /* in a process group of its own: a kill(0) would take only droplet down */
      const r = await dropletInBackground(b.root, ['delete', '--force', id], { detached: true }).done;
      assert.equal(r.signal, null, 'droplet was not killed by its own signal');
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(leftovers(b.root, id, b.dir), []);
    } finally {
      if (existsSync(file)) {
        writeFileSync(file, saved);
        droplet(b.root, ['delete', '--force', id]);
      }
      rmSync(fake, { recursive: true, force: true });
    }
  });
});
