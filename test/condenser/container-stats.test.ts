import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mountsUnder } from '../helpers/leaks.js';
import { TestStore } from '../helpers/raind-store.js';

let store: TestStore;
before(() => {
  store = new TestStore('raind-stats-');
});
after(() => {
  const left = store.cleanup();
  assert.deepEqual(left, [], `left behind: ${left.join(', ')}`);
});

const names = () =>
  (JSON.parse(store.ok(['ps', '-a', '--format', 'json']).stdout) as { Names: string; State: string }[])
    .map((c) => `${c.Names}:${c.State}`)
    .sort();

describe('raind top and stats', () => {
  test("top lists the container's sleep with docker's columns; ps options select others", () => {
    store.ok(['run', '-d', '--name', 'sleeper', '-m', '64m', 'busybox:test', 'sleep', '1001']);
    const r = store.ok(['top', 'sleeper']);
    const [header, ...rows] = r.stdout.trim().split('\n');
    assert.deepEqual(header?.split(/\s+/), ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    assert.equal(rows.length, 1);
    assert.match(rows[0] ?? '', /^root\s+\d+\s+\d+\s.*sleep 1001$/);
    const custom = store.ok(['top', 'sleeper', '-eo', 'pid,comm']).stdout.trim().split('\n');
    assert.deepEqual(custom[0]?.trim().split(/\s+/), ['PID', 'COMMAND']);
    assert.deepEqual(
      custom.slice(1).map((l) => l.trim().split(/\s+/)[1]),
      ['sleep'],
    );
  });

  test('stats --no-stream --format json shows the memory limit of -m 64m and the pids', () => {
    const r = store.ok(['stats', '--no-stream', '--format', 'json', 'sleeper']);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const s = JSON.parse(lines[0] ?? '');
    assert.equal(s.Name, 'sleeper');
    assert.equal(s.MemLimitBytes, 64 * 1024 * 1024);
    assert.match(s.MemUsage, / \/ 64MiB$/);
    assert.ok(s.MemUsageBytes > 0 && s.MemUsageBytes < 64 * 1024 * 1024);
    assert.equal(s.PIDs, '1');
    assert.match(s.CPUPerc, /^\d+\.\d\d%$/);
  });

  test('stats --no-stream prints one table of the running containers', () => {
    const r = store.ok(['stats', '--no-stream']);
    const [header, ...rows] = r.stdout.trim().split('\n');
    assert.match(header ?? '', /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+BLOCK I\/O\s+PIDS$/);
    assert.equal(rows.length, 1);
    assert.match(rows[0] ?? '', /sleeper\s+\d+\.\d\d%\s+\S+ \/ 64MiB\s+\d+\.\d\d%\s+\S+ \/ \S+\s+1$/);
  });

  test('top of a stopped container and stats of an unknown one are errors', () => {
    store.ok(['create', '--name', 'idle', 'busybox:test', 'sleep', '1']);
    const top = store.run(['top', 'idle']);
    assert.notEqual(top.code, 0);
    assert.match(top.stderr, /not running/);
    const stats = store.run(['stats', '--no-stream', 'nope']);
    assert.notEqual(stats.code, 0);
    assert.match(stats.stderr, /no such container/);
    store.ok(['rm', 'idle']);
  });
});

describe('raind rename, port, container prune', () => {
  test('rename: ps shows the new name, the old one is free, a name in use is refused', () => {
    store.ok(['rename', 'sleeper', 'renamed']);
    assert.deepEqual(names(), ['renamed:running']);
    assert.equal(JSON.parse(store.ok(['inspect', 'renamed']).stdout)[0].Name.replace(/^\//, ''), 'renamed');
    assert.notEqual(store.run(['inspect', 'sleeper']).code, 0);
    store.ok(['create', '--name', 'sleeper', 'busybox:test', 'sleep', '1']);
    const taken = store.run(['rename', 'sleeper', 'renamed']);
    assert.notEqual(taken.code, 0);
    assert.match(taken.stderr, /already in use/);
    assert.deepEqual(names(), ['renamed:running', 'sleeper:created']);
  });

  test('port prints nothing for a known container and fails for an unknown one', () => {
    const r = store.ok(['port', 'renamed']);
    assert.equal(r.stdout, '');
    const unknown = store.run(['port', 'nope']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no such container/);
  });

  test('container prune removes the exited and created containers only', () => {
    assert.equal(store.run(['run', '--name', 'done', 'busybox:test', 'sh', '-c', 'echo bytes > /out; exit 3']).code, 3);
    assert.deepEqual(names(), ['done:exited', 'renamed:running', 'sleeper:created']);
    const r = store.ok(['container', 'prune', '-f']);
    assert.match(r.stdout, /^Deleted Containers:\n[0-9a-z]{12}\n[0-9a-z]{12}\n\nTotal reclaimed space: \d+(\.\d+)?[kMG]?B\n$/);
    assert.deepEqual(names(), ['renamed:running']);
  });
});

describe('raind system reset', () => {
  test('removes every container and image and leaves the store empty, nothing mounted', () => {
    store.ok(['create', '--name', 'created1', 'busybox:test', 'sleep', '1']);
    store.ok(['run', '--name', 'exited1', 'busybox:test', 'true']);
    const r = store.ok(['system', 'reset', '-f']);
    assert.match(r.stdout, /^Removed 3 container\(s\) and 1 image\(s\)\n$/);
    assert.deepEqual(readdirSync(store.root), []);
    assert.deepEqual(existsSync(store.runRoot) ? readdirSync(store.runRoot) : [], []);
    assert.deepEqual(mountsUnder(store.dir), []);
    assert.equal(store.ok(['ps', '-a', '-q']).stdout, '');
    assert.equal(store.ok(['images', '-q']).stdout, '');
  });

  test('refuses a --root that is not a raind store', () => {
    const r = store.run(['--root', join(store.dir, '..'), 'system', 'reset', '-f']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /does not look like raind's store/);
  });
});
