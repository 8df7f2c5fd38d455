import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_CAPABILITIES } from '../../src/condenser/containers/capabilities.js';
import { type SeccompHost, ociSeccomp } from '../../src/condenser/containers/seccomp/convert.js';
import { containerSeccomp, seccompOption } from '../../src/condenser/containers/seccomp/container-profile.js';
import { kernelAtLeast, parseKernelVersion } from '../../src/condenser/containers/seccomp/kernel-version.js';
import { readSeccompProfile } from '../../src/condenser/containers/seccomp/profile.js';
import { compileSeccomp } from '../../src/droplet/seccomp/index.js';
import { REPO } from '../helpers/droplet.js';

const AMD64: SeccompHost = { arch: 'amd64', scmpArch: 'SCMP_ARCH_X86_64', kernel: { major: 6, minor: 1 } };
const ARM64: SeccompHost = { arch: 'arm64', scmpArch: 'SCMP_ARCH_AARCH64', kernel: { major: 6, minor: 1 } };
const DOCKER_CAPS = DEFAULT_CAPABILITIES.map((c) => `CAP_${c}`);

const fixture = (name: string) => JSON.parse(readFileSync(join(REPO, 'test/fixtures/seccomp', name), 'utf8'));
const convert = (raw: unknown, caps: readonly string[] = DOCKER_CAPS, host = AMD64) => ociSeccomp(readSeccompProfile(raw), caps, host);
/** the names of the rules kept, with their action */
const kept = (raw: unknown, caps?: readonly string[], host?: SeccompHost) =>
  (convert(raw, caps, host)?.syscalls ?? []).map((s) => `${s.names.join(',')}:${s.action}`);

const rule = (names: string[], extra: object = {}) => ({ names, action: 'SCMP_ACT_ALLOW', ...extra });
const profile = (...syscalls: object[]) => ({ defaultAction: 'SCMP_ACT_ERRNO', syscalls });

describe('seccomp profiles: docker/podman format to linux.seccomp', () => {
  test("moby's default profile resolves as docker resolves it for an amd64 host with docker's capabilities", () => {
    assert.deepEqual(convert(fixture('moby-default.json')), fixture('docker-default-amd64.json'));
  });

  test('the result is a linux.seccomp droplet compiles, for amd64 and for arm64', () => {
    const docker = convert(fixture('moby-default.json'));
    assert.ok(compileSeccomp(docker, 'x64').program.length > 0);
    const arm = convert(fixture('moby-default.json'), DOCKER_CAPS, ARM64);
    assert.deepEqual(arm?.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    assert.ok(compileSeccomp({ ...arm, architectures: ['SCMP_ARCH_AARCH64'] }, 'arm64').program.length > 0);
  });

  test('includes.caps: kept only when the container holds every one; excludes.caps: dropped when it holds any', () => {
    const p = profile(
      rule(['bpf'], { includes: { caps: ['CAP_SYS_ADMIN'] } }),
      rule(['bpf'], { action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_SYS_ADMIN'] } }),
      rule(['both'], { includes: { caps: ['CAP_SYS_ADMIN', 'CAP_BPF'] } }),
      rule(['either'], { action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_SYS_ADMIN', 'CAP_BPF'] } }),
    );
    assert.deepEqual(kept(p, DOCKER_CAPS), ['bpf:SCMP_ACT_ERRNO', 'either:SCMP_ACT_ERRNO']);
    assert.deepEqual(kept(p, [...DOCKER_CAPS, 'CAP_SYS_ADMIN']), ['bpf:SCMP_ACT_ALLOW']);
    assert.deepEqual(kept(p, ['CAP_BPF']), ['bpf:SCMP_ACT_ERRNO']);
    assert.deepEqual(kept(p, ['CAP_SYS_ADMIN', 'CAP_BPF']), ['bpf:SCMP_ACT_ALLOW', 'both:SCMP_ACT_ALLOW']);
    /* a profile may spell a capability without CAP_ or in lower case */
    assert.deepEqual(kept(profile(rule(['x'], { includes: { caps: ['sys_admin'] } })), ['CAP_SYS_ADMIN']), ['x:SCMP_ACT_ALLOW']);
  });

  test("archMap gives this machine's architecture and its sub-architectures; arches filter the rules", () => {
    const p = {
      ...profile(
        rule(['arch_prctl'], { includes: { arches: ['amd64', 'x32'] } }),
        rule(['cacheflush'], { includes: { arches: ['arm', 'arm64'] } }),
        rule(['not_on_amd64'], { excludes: { arches: ['amd64'] } }),
      ),
      archMap: [
        { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
        { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
      ],
    };
    assert.deepEqual(convert(p)?.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.deepEqual(kept(p), ['arch_prctl:SCMP_ACT_ALLOW']);
    assert.deepEqual(convert(p, DOCKER_CAPS, ARM64)?.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    assert.deepEqual(kept(p, DOCKER_CAPS, ARM64), ['cacheflush:SCMP_ACT_ALLOW', 'not_on_amd64:SCMP_ACT_ALLOW']);
    /* a machine archMap lacks: no architectures, so the runtime filters its native one only */
    assert.equal(convert(p, DOCKER_CAPS, { ...AMD64, arch: 'ppc64le', scmpArch: 'SCMP_ARCH_PPC64LE' })?.architectures, undefined);
    /* architectures are taken as given */
    assert.deepEqual(convert({ ...profile(), architectures: ['SCMP_ARCH_X86_64'] })?.architectures, ['SCMP_ARCH_X86_64']);
  });

  test('minKernel: an include needs at least that kernel, an exclude drops the rule from that kernel on', () => {
    const p = profile(rule(['new'], { includes: { minKernel: '5.8' } }), rule(['old'], { excludes: { minKernel: '5.8' } }));
    assert.deepEqual(kept(p, [], { ...AMD64, kernel: { major: 5, minor: 4 } }), ['old:SCMP_ACT_ALLOW']);
    assert.deepEqual(kept(p, [], { ...AMD64, kernel: { major: 5, minor: 8 } }), ['new:SCMP_ACT_ALLOW']);
    assert.deepEqual(kept(p, [], { ...AMD64, kernel: { major: 6, minor: 0 } }), ['new:SCMP_ACT_ALLOW']);
    assert.deepEqual(kept(p, [], { ...AMD64, kernel: { major: 4, minor: 19 } }), ['old:SCMP_ACT_ALLOW']);
    assert.deepEqual(parseKernelVersion('6.18.44-fc-v857'), { major: 6, minor: 18 });
    assert.deepEqual(parseKernelVersion('6.1.0-13-amd64'), { major: 6, minor: 1 });
    assert.equal(parseKernelVersion('linux'), undefined);
    assert.equal(kernelAtLeast({ major: 5, minor: 10 }, { major: 5, minor: 8 }), true);
    assert.equal(kernelAtLeast({ major: 4, minor: 20 }, { major: 5, minor: 0 }), false);
  });

  test('errno names become numbers (containers-common writes both), name becomes names, args keep their form', () => {
    const p = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrno: 'ENOSYS',
      syscalls: [
        { names: ['swapon'], action: 'SCMP_ACT_ERRNO', errno: 'EPERM' },
        { name: 'personality', action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
        { names: ['x'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, errno: 'EPERM' },
      ],
    };
    assert.deepEqual(convert(p), {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      syscalls: [
        { names: ['swapon'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
        { names: ['x'], action: 'SCMP_ACT_ERRNO', errnoRet: 22 },
      ],
    });
    /* no default action and no syscalls: no filter (moby's rule) */
    assert.equal(convert({}), undefined);
  });

  test('a bad profile is refused naming the field', () => {
    const bad = (raw: unknown, message: RegExp) => assert.throws(() => readSeccompProfile(raw), message);
    bad([], /expected object/);
    bad(profile(rule(['x'], { action: 'SCMP_ACT_MAYBE' })), /syscalls\[0\]\.action: unknown action "SCMP_ACT_MAYBE"/);
    bad(profile({ names: ['x'] }), /syscalls\[0\]\.action: is required/);
    bad(profile(rule([])), /syscalls\[0\]\.names: must name at least one syscall/);
    bad(profile({ name: 'a', names: ['b'], action: 'SCMP_ACT_ALLOW' }), /syscalls\[0\]\.name: give either name or names/);
    bad(profile(rule(['x'], { errnoRet: 1 })), /syscalls\[0\]\.errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE/);
    bad(profile(rule(['x'], { action: 'SCMP_ACT_ERRNO', errno: 'ENOPE' })), /syscalls\[0\]\.errno: unknown errno "ENOPE"/);
    bad(profile(rule(['x'], { args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] })), /syscalls\[0\]\.args\[0\]\.index/);
    bad(profile(rule(['x'], { args: [{ index: 0, value: 1, op: 'EQ' }] })), /args\[0\]\.op: unknown operator "EQ"/);
    bad(profile(rule(['x'], { args: [{ index: 0, value: 2 ** 60, op: 'SCMP_CMP_EQ' }] })), /args\[0\]\.value: .* above 2\^53/);
    bad(profile(rule(['x'], { includes: { minKernel: 'new' } })), /syscalls\[0\]\.includes\.minKernel: "new" is not a kernel version/);
    bad({ ...profile(), architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64' }] }, /archMap: give either/);
    bad({ ...profile(), architectures: ['x86_64'] }, /architectures\[0\]: "x86_64" is not an architecture/);
    bad({ syscalls: [rule(['x'])] }, /defaultAction: is required/);
  });
});

describe('seccomp: which profile a container gets', () => {
  const caps = DOCKER_CAPS;
  const denyMkdir = JSON.stringify(profile(rule(['mkdir'], { action: 'SCMP_ACT_ERRNO' })));

  test('privileged and seccomp=unconfined: no filter; seccomp=JSON: that profile; the last option wins', () => {
    const none = ['/nonexistent/seccomp.json'];
    assert.deepEqual(containerSeccomp({ securityOpt: [], privileged: true, capabilities: caps }, none, AMD64), {});
    assert.deepEqual(containerSeccomp({ securityOpt: ['seccomp=unconfined'], privileged: false, capabilities: caps }, none, AMD64), {});
    assert.deepEqual(containerSeccomp({ securityOpt: [`seccomp=${denyMkdir}`], privileged: true, capabilities: caps }, none, AMD64), {});
    const custom = containerSeccomp({ securityOpt: [`seccomp=${denyMkdir}`], privileged: false, capabilities: caps }, none, AMD64);
    assert.deepEqual(custom.seccomp?.syscalls, [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }]);
    assert.equal(seccompOption(['seccomp=unconfined', 'no-new-privileges', `seccomp:${denyMkdir}`]), denyMkdir);
    assert.throws(
      () => containerSeccomp({ securityOpt: ['seccomp=/etc/profile.json'], privileged: false, capabilities: caps }, none, AMD64),
      /--security-opt seccomp: not a JSON seccomp profile/,
    );
  });

  test('the default: the first default profile present; none: no filter, with a warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'raind-seccomp-'));
    try {
      const override = join(dir, 'etc.json');
      const shipped = join(dir, 'share.json');
      writeFileSync(shipped, denyMkdir);
      const settings = { securityOpt: ['no-new-privileges'], privileged: false, capabilities: caps };
      assert.deepEqual(containerSeccomp(settings, [override, shipped], AMD64).seccomp?.syscalls?.[0]?.names, ['mkdir']);
      writeFileSync(override, JSON.stringify(profile(rule(['rmdir']))));
      assert.deepEqual(containerSeccomp(settings, [override, shipped], AMD64).seccomp?.syscalls?.[0]?.names, ['rmdir']);
      writeFileSync(override, '{');
      assert.throws(() => containerSeccomp(settings, [override, shipped], AMD64), /seccomp default profile .*etc\.json: not a JSON/);
      const missing = containerSeccomp(settings, [join(dir, 'a.json'), join(dir, 'b.json')], AMD64);
      assert.equal(missing.seccomp, undefined);
      assert.match(missing.warning ?? '', /^no default seccomp profile .*: the container runs without a seccomp filter/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
