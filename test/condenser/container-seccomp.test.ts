import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO } from '../helpers/droplet.js';
import { type TestEngine, importBusybox, makeTestEngine, removeTestEngine } from '../helpers/engine.js';

/** A static program that calls the syscalls it is given: busybox has no applet for the ones
 * the default profile refuses and the kernel would allow. */
function addProbe(rootfs: string): void {
  execFileSync('gcc', ['-static', '-O2', '-o', join(rootfs, 'bin', 'probe'), join(REPO, 'test/fixtures/syscall-probe.c')]);
}

const field = (text: string, name: string) => new RegExp(`^${name}:\\s+(\\d+)$`, 'm').exec(text)?.[1];

const DENY_MKDIR = {
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
};
const MKDIR_AND_TOUCH = 'mkdir /x; echo mkdir=$?; touch /y && echo touched; grep Seccomp: /proc/self/status';

describe('raind containers: seccomp, as docker and podman apply it', () => {
  let e: TestEngine;
  let profiles: string;
  before(() => {
    e = makeTestEngine();
    importBusybox(e, 'busybox:test', addProbe);
    profiles = join(e.dir, 'profiles');
    mkdirSync(profiles);
    writeFileSync(join(profiles, 'deny-mkdir.json'), JSON.stringify(DENY_MKDIR));
  });
  after(() => removeTestEngine(e));

  for (const runtime of ['droplet', 'runc'])
    test(`${runtime}: the default profile filters and refuses what it does not allow; unconfined and --privileged do not filter`, () => {
      const run = (...args: string[]) => e.ok(['run', '--rm', '--runtime', runtime, ...args]).stdout;
      const probe = ['busybox:test', 'sh', '-c', 'grep Seccomp: /proc/self/status; probe move_pages personality kcmp'];
      const filtered = run(...probe);
      assert.equal(field(filtered, 'Seccomp'), '2', filtered);
      /* on the profile's EPERM list */
      assert.match(filtered, /^move_pages: Operation not permitted$/m);
      /* allowed only for a few personalities; anything else gets the default, ENOSYS */
      assert.match(filtered, /^personality: Function not implemented$/m);
      /* includes.caps CAP_SYS_PTRACE: refused without it, allowed with --cap-add */
      assert.match(filtered, /^kcmp: Operation not permitted$/m);
      assert.equal(run('--cap-add', 'SYS_PTRACE', 'busybox:test', 'probe', 'kcmp'), 'kcmp: ok\n');
      for (const opt of [['--security-opt', 'seccomp=unconfined'], ['--privileged']]) {
        const open = run(...opt, ...probe);
        assert.equal(field(open, 'Seccomp'), '0', `${opt}: ${open}`);
        assert.match(open, /^move_pages: ok\npersonality: ok\nkcmp: ok$/m, `${opt}`);
      }
    });

  test("the default profile is containers-common's, resolved for this machine and the container's capabilities", () => {
    const config = (...args: string[]) => {
      const id = e.ok(['create', ...args, 'busybox:test', 'true']).stdout.trim();
      const spec = JSON.parse(readFileSync(join(e.root, 'containers', id, 'config.json'), 'utf8'));
      e.ok(['rm', id]);
      return spec.linux.seccomp;
    };
    const rulesFor = (seccomp: { syscalls: { names: string[]; action: string }[] }, name: string) =>
      seccomp.syscalls.filter((s) => s.names.includes(name)).map((s) => s.action);
    const plain = config();
    assert.equal(plain.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(plain.defaultErrnoRet, 38);
    if (process.arch === 'x64') assert.deepEqual(plain.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.deepEqual(rulesFor(plain, 'bpf'), ['SCMP_ACT_ERRNO']);
    assert.deepEqual(rulesFor(plain, 'chroot'), ['SCMP_ACT_ALLOW']);
    const admin = config('--cap-add', 'SYS_ADMIN', '--cap-drop', 'SYS_CHROOT');
    assert.deepEqual(rulesFor(admin, 'bpf'), ['SCMP_ACT_ALLOW']);
    assert.deepEqual(rulesFor(admin, 'chroot'), ['SCMP_ACT_ERRNO']);
    assert.equal(config('--security-opt', 'seccomp=unconfined'), undefined);
  });

  test('seccomp=FILE: that profile, kept by the container when the file is gone', () => {
    for (const runtime of ['droplet', 'runc']) {
      const file = join(profiles, 'deny-mkdir.json');
      const r = e.run([
        'run',
        '--rm',
        '--runtime',
        runtime,
        '--security-opt',
        `seccomp=${file}`,
        'busybox:test',
        'sh',
        '-c',
        MKDIR_AND_TOUCH,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'mkdir=1\ntouched\nSeccomp:\t2\n');
      assert.equal(r.stderr, "mkdir: can't create directory '/x': Operation not permitted\n");
    }
    const file = join(profiles, 'gone.json');
    writeFileSync(file, JSON.stringify(DENY_MKDIR));
    const id = e.ok(['create', '--security-opt', `seccomp=${file}`, 'busybox:test', 'sh', '-c', MKDIR_AND_TOUCH]).stdout.trim();
    rmSync(file);
    e.ok(['start', id]);
    assert.equal(e.ok(['wait', id]).stdout, '0\n');
    assert.equal(e.ok(['logs', id]).stdout, 'mkdir=1\ntouched\nSeccomp:\t2\n');
    const [record] = JSON.parse(e.ok(['inspect', id]).stdout);
    assert.deepEqual(JSON.parse(record.HostConfig.SecurityOpt[0].slice('seccomp='.length)), DENY_MKDIR);
    e.ok(['rm', id]);
  });

  test('crun loads the same filter (run on the container config, without cgroups, which crun refuses on a hybrid host)', () => {
    const file = join(profiles, 'deny-mkdir.json');
    const id = e.ok(['create', '--security-opt', `seccomp=${file}`, 'busybox:test', 'sh', '-c', MKDIR_AND_TOUCH]).stdout.trim();
    const bundle = join(e.dir, 'crun-bundle');
    mkdirSync(bundle);
    try {
      const spec = JSON.parse(readFileSync(join(e.root, 'containers', id, 'config.json'), 'utf8'));
      delete spec.linux.cgroupsPath;
      delete spec.linux.resources;
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
      const crun = `crun --root ${bundle}/state --cgroup-manager=disabled run -b ${bundle} raind-seccomp-${id}`;
      /* crun reads the v2 controllers to tell hybrid from v1; a private mount hides them */
      const hybrid = '/sys/fs/cgroup/unified/cgroup.controllers';
      const empty = join(bundle, 'empty');
      writeFileSync(empty, '');
      const script = existsSync(hybrid) ? `mount --bind ${empty} ${hybrid} && exec ${crun}` : `exec ${crun}`;
      const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'mkdir=1\ntouched\nSeccomp:\t2\n');
      assert.match(r.stderr, /Operation not permitted/);
    } finally {
      e.ok(['rm', '-f', id]);
      rmSync(bundle, { recursive: true, force: true });
    }
  });

  test('--security-opt no-new-privileges sets NoNewPrivs, with the filter loaded either way', () => {
    const status = (...args: string[]) => e.ok(['run', '--rm', ...args, 'busybox:test', 'cat', '/proc/self/status']).stdout;
    const on = status('--security-opt', 'no-new-privileges');
    assert.equal(field(on, 'NoNewPrivs'), '1');
    assert.equal(field(on, 'Seccomp'), '2');
    const off = status();
    assert.equal(field(off, 'NoNewPrivs'), '0');
    assert.equal(field(off, 'Seccomp'), '2');
    assert.equal(field(status('--security-opt', 'no-new-privileges=false'), 'NoNewPrivs'), '0');
  });

  test('a bad seccomp=FILE is one line naming --security-opt, exit 125, and leaves nothing', () => {
    const refused = (args: string[], message: RegExp) => {
      const r = e.run([...args, 'busybox:test', 'true']);
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(e.run(['ps', '-aq']).stdout, '', 'no container is left');
      assert.deepEqual(readdirSync(join(e.root, 'containers')), []);
    };
    const write = (name: string, text: string) => {
      writeFileSync(join(profiles, name), text);
      return `seccomp=${join(profiles, name)}`;
    };
    refused(
      ['run', '--security-opt', `seccomp=${profiles}/missing.json`],
      /--security-opt seccomp=\S+missing\.json: no such file or directory/i,
    );
    refused(
      ['run', '--security-opt', write('cut.json', '{"defaultAction": ')],
      /--security-opt seccomp=\S+cut\.json: not a JSON seccomp profile/,
    );
    const unknownAction = write(
      'action.json',
      JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOPE' }] }),
    );
    refused(
      ['create', '--security-opt', unknownAction],
      /--security-opt seccomp=\S+action\.json: syscalls\[0\]\.action: unknown action "SCMP_ACT_NOPE"/,
    );
    refused(['run', '--security-opt', write('array.json', '[]')], /--security-opt seccomp=\S+array\.json: .*expected object/);
    refused(['run', '--security-opt', 'seccomp='], /--security-opt "seccomp=" is not supported/);
  });
});
