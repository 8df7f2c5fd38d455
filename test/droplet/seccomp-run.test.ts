import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseConfig, makeBundle, type Bundle } from '../helpers/bundle.js';
import { droplet, REPO, uniqueId, waitFor } from '../helpers/droplet.js';
import { leftovers } from '../helpers/leaks.js';

const dockerProfile = () => JSON.parse(readFileSync(join(REPO, 'test', 'fixtures', 'seccomp', 'docker-default-amd64.json'), 'utf8'));

function run(b: Bundle, script: string, seccomp: unknown, mutate?: (c: any) => void) {
  const c = baseConfig();
  c.root.readonly = false;
  c.process.args = ['/bin/sh', '-c', script];
  c.linux.seccomp = seccomp;
  mutate?.(c);
  b.write(c);
  const id = uniqueId('sc');
  const r = droplet(b.root, ['run', '-b', b.dir, id]);
  assert.deepEqual(leftovers(b.root, id, b.dir), []);
  return r;
}

/** mkdir goes through mkdir(2) or mkdirat(2), depending on the libc: filter both. */
const onMkdir = (action: string, extra: object = {}) => [
  { names: ['mkdir'], action, ...extra },
  { names: ['mkdirat'], action, ...extra },
];

describe('seccomp filters on real programs', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test('the docker default profile: ordinary work runs, unshare and mount are refused', () => {
    const r = run(
      b,
      'grep -E "^Seccomp(_filters)?:" /proc/self/status | tr -s "\\t " " "; echo hi > /tmp/f && cat /tmp/f; unshare -m true 2>/dev/null || echo unshare-denied',
      dockerProfile(),
      (c) => {
        c.process.capabilities.bounding.push('CAP_SYS_ADMIN');
        c.process.capabilities.effective.push('CAP_SYS_ADMIN');
        c.process.capabilities.permitted.push('CAP_SYS_ADMIN');
      },
    );
    assert.equal(r.code, 0, r.stderr);
    /* with CAP_SYS_ADMIN, only the filter stands between the shell and unshare */
    assert.equal(r.stdout, 'Seccomp: 2\nSeccomp_filters: 1\nhi\nunshare-denied\n');
  });

  test('a deny list with an errno value', () => {
    const r = run(b, 'mkdir /tmp/d 2>&1; echo still-running', {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: onMkdir('SCMP_ACT_ERRNO', { errnoRet: 13 }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Permission denied\nstill-running\n$/);
  });

  test('the default errno is EPERM, and defaultErrnoRet changes it', () => {
    const eperm = run(b, 'mkdir /tmp/e 2>&1; true', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: onMkdir('SCMP_ACT_ERRNO') });
    assert.match(eperm.stdout, /Operation not permitted/);
    /* an allow list: everything busybox needs is allowed by the docker profile; mkdir falls to the default */
    const profile = dockerProfile();
    profile.defaultErrnoRet = 38;
    profile.syscalls = profile.syscalls.map((s: any) => ({ ...s, names: s.names.filter((n: string) => n !== 'mkdir' && n !== 'mkdirat') }));
    const enosys = run(b, 'mkdir /tmp/n 2>&1; true', profile);
    assert.equal(enosys.code, 0, enosys.stderr);
    assert.match(enosys.stdout, /Function not implemented/);
  });

  test('argument filters: personality(PER_LINUX32) refused, other personalities allowed', () => {
    const r = run(b, 'linux32 uname -m 2>/dev/null || echo linux32-refused; uname -m', {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0xff, valueTwo: 8, op: 'SCMP_CMP_MASKED_EQ' }] },
      ],
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'linux32-refused\nx86_64\n');
    const allowed = run(b, 'linux32 uname -m', {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0x100000000, op: 'SCMP_CMP_GE' }] }],
    });
    assert.equal(allowed.stdout, 'i686\n', 'a 64-bit comparison must not match 8');
  });

  test('SCMP_ACT_KILL_PROCESS and SCMP_ACT_TRAP end the process with SIGSYS', () => {
    const killed = run(b, 'mkdir /tmp/k', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: onMkdir('SCMP_ACT_KILL_PROCESS') }, (c) => {
      c.process.args = ['/bin/mkdir', '/tmp/k'];
    });
    assert.equal(killed.code, 128 + 31);
    const trapped = run(b, '', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: onMkdir('SCMP_ACT_TRAP') }, (c) => {
      c.process.args = ['/bin/mkdir', '/tmp/t'];
    });
    assert.equal(trapped.code, 128 + 31);
  });

  test('the filter is loaded before the entrypoint with or without no_new_privs', () => {
    const r = run(
      b,
      'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status | tr -s "\\t " " "',
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: onMkdir('SCMP_ACT_ERRNO') },
      (c) => {
        c.process.noNewPrivileges = false;
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'NoNewPrivs: 0\nSeccomp: 2\n');
  });

  test('syscall names unknown to an architecture are skipped; bad profiles are refused naming the field', () => {
    const r = run(b, 'echo ran', {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['no_such_syscall', 'mkdir'], action: 'SCMP_ACT_ERRNO' }],
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ran\n');
    const bad = run(b, 'true', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOPE' }] });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /linux\.seccomp\.syscalls\[0\]\.action: unknown action "SCMP_ACT_NOPE"/);
  });

  test('SCMP_ACT_NOTIFY sends the listener fd and the container state to listenerPath', async () => {
    const sock = join(b.dir, `seccomp-${uniqueId('l')}.sock`);
    const agent = spawn('python3', [join(REPO, 'test', 'helpers', 'seccomp-listener.py'), sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    agent.stdout.on('data', (d) => (out += d));
    await waitFor(() => out.startsWith('listening'), 5000, 'the listener');
    const r = run(b, 'mkdir /tmp/notified 2>&1; true', {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: sock,
      listenerMetadata: 'hello-agent',
      syscalls: onMkdir('SCMP_ACT_NOTIFY'),
    });
    /* a create that never reached the agent must not leave the test waiting on it */
    const exited = new Promise((resolve) => agent.on('exit', resolve));
    const timer = setTimeout(() => agent.kill(), 5000);
    await exited;
    clearTimeout(timer);
    assert.equal(r.code, 0, r.stderr);
    /* the agent closed the fd without answering: the notified syscall fails */
    assert.match(r.stdout, /Function not implemented/);
    const [, payload, fds] = out.trim().split('\n');
    const state = JSON.parse(payload ?? assert.fail(`no state in the agent's output:\n${out}`));
    assert.deepEqual(state.fds, ['seccompFd']);
    assert.equal(state.metadata, 'hello-agent');
    assert.ok(state.pid > 0);
    assert.equal(state.state.status, 'creating');
    assert.equal(fds, 'fds=1');
  });
});
