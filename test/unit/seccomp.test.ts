import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { UserError } from '../../src/lib/errors.js';
import { compileSeccomp, type CompiledSeccomp } from '../../src/droplet/seccomp/compile.js';
import { AARCH64, X32, X86, X86_64, type SyscallTable } from '../../src/droplet/seccomp/syscall-tables.js';
import { decodeProgram, runSeccomp } from '../helpers/bpf.js';
import { REPO } from '../helpers/droplet.js';

/* Expected values written out here rather than imported, so a wrong constant in the compiler
 * cannot agree with itself. */
const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
};
const errno = (e: number) => RET.ERRNO | e;
const EPERM = errno(1);
const BAD_ARCH = RET.KILL_THREAD;

const ABI = {
  x86_64: { audit: 0xc000003e, table: X86_64 },
  x86: { audit: 0x40000003, table: X86 },
  x32: { audit: 0xc000003e, table: X32 },
  aarch64: { audit: 0xc00000b7, table: AARCH64 },
} as const;
type Abi = keyof typeof ABI;

function nr(table: SyscallTable, name: string): number {
  const n = Object.hasOwn(table, name) ? table[name] : undefined;
  assert.ok(n !== undefined, `no syscall ${name}`);
  return n;
}

/** Runs a compiled filter on a named syscall of one ABI (x86_64 unless said). */
function call(c: CompiledSeccomp, name: string, args: Array<bigint | number> = [], abi: Abi = 'x86_64'): number {
  return runSeccomp(c.program, { nr: nr(ABI[abi].table, name), arch: ABI[abi].audit, args: args.map(BigInt) });
}

const compile = (seccomp: object, hostArch = 'x64') => compileSeccomp(seccomp, hostArch);

describe('seccomp: actions', () => {
  test('the default action applies to every syscall, with its errno or trace value', () => {
    const cases: Array<[object, number]> = [
      [{ defaultAction: 'SCMP_ACT_KILL' }, RET.KILL_THREAD],
      [{ defaultAction: 'SCMP_ACT_KILL_THREAD' }, RET.KILL_THREAD],
      [{ defaultAction: 'SCMP_ACT_KILL_PROCESS' }, RET.KILL_PROCESS],
      [{ defaultAction: 'SCMP_ACT_TRAP' }, RET.TRAP],
      [{ defaultAction: 'SCMP_ACT_ERRNO' }, EPERM],
      [{ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38 }, errno(38)],
      [{ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 0 }, errno(0)],
      [{ defaultAction: 'SCMP_ACT_TRACE' }, RET.TRACE | 1],
      [{ defaultAction: 'SCMP_ACT_TRACE', defaultErrnoRet: 0xbeef }, RET.TRACE | 0xbeef],
      [{ defaultAction: 'SCMP_ACT_ALLOW' }, RET.ALLOW],
      [{ defaultAction: 'SCMP_ACT_LOG' }, RET.LOG],
      [{ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/run/agent.sock' }, RET.USER_NOTIF],
    ];
    for (const [cfg, want] of cases) {
      const c = compile(cfg);
      for (const name of ['read', 'getpid', 'mkdir', 'kexec_load']) assert.equal(call(c, name), want, `${JSON.stringify(cfg)}: ${name}`);
      assert.equal(runSeccomp(c.program, { nr: 0x3fffffff, arch: ABI.x86_64.audit }), want, 'a number no syscall has');
    }
  });

  test('each rule action returns its value; errnoRet applies to ERRNO and TRACE', () => {
    const actions: Array<[object, number]> = [
      [{ action: 'SCMP_ACT_KILL' }, RET.KILL_THREAD],
      [{ action: 'SCMP_ACT_KILL_THREAD' }, RET.KILL_THREAD],
      [{ action: 'SCMP_ACT_KILL_PROCESS' }, RET.KILL_PROCESS],
      [{ action: 'SCMP_ACT_TRAP' }, RET.TRAP],
      [{ action: 'SCMP_ACT_ERRNO' }, EPERM],
      [{ action: 'SCMP_ACT_ERRNO', errnoRet: 13 }, errno(13)],
      [{ action: 'SCMP_ACT_TRACE' }, RET.TRACE | 1],
      [{ action: 'SCMP_ACT_TRACE', errnoRet: 42 }, RET.TRACE | 42],
      [{ action: 'SCMP_ACT_LOG' }, RET.LOG],
      [{ action: 'SCMP_ACT_NOTIFY' }, RET.USER_NOTIF],
    ];
    for (const [rule, want] of actions) {
      const c = compile({
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: '/run/agent.sock',
        syscalls: [{ names: ['getpid'], ...rule }],
      });
      assert.equal(call(c, 'getpid'), want, JSON.stringify(rule));
      assert.equal(call(c, 'getppid'), RET.ALLOW);
    }
    const allow = compile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }] });
    assert.equal(call(allow, 'getpid'), RET.ALLOW);
  });

  test('allow list: listed syscalls pass, everything else gets the default', () => {
    const c = compile({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW' }],
    });
    assert.equal(call(c, 'read'), RET.ALLOW);
    assert.equal(call(c, 'write'), RET.ALLOW);
    assert.equal(call(c, 'exit_group'), RET.ALLOW);
    for (const name of ['open', 'mkdir', 'mount', 'getpid', 'set_mempolicy_home_node']) assert.equal(call(c, name), EPERM, name);
    for (const n of [451, 1000, 0x3fffffff]) assert.equal(runSeccomp(c.program, { nr: n, arch: ABI.x86_64.audit }), EPERM, `nr ${n}`);
  });

  test('deny list: listed syscalls fail, everything else passes', () => {
    const c = compile({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 30 },
        { names: ['reboot'], action: 'SCMP_ACT_KILL_PROCESS' },
      ],
    });
    assert.equal(call(c, 'mkdir'), errno(30));
    assert.equal(call(c, 'mkdirat'), errno(30));
    assert.equal(call(c, 'reboot'), RET.KILL_PROCESS);
    for (const name of ['read', 'rmdir', 'mknod', 'mknodat']) assert.equal(call(c, name), RET.ALLOW, name);
  });

  test('every syscall number gets what the rules say (a sweep against the tables)', () => {
    const table = X86_64;
    const names = Object.keys(table);
    const allowed = new Set(names.filter((_, i) => i % 3 !== 0));
    const errnoed = new Set(names.filter((_, i) => i % 7 === 0));
    const c = compile({
      defaultAction: 'SCMP_ACT_TRAP',
      syscalls: [
        { names: [...allowed], action: 'SCMP_ACT_ALLOW' },
        { names: [...errnoed], action: 'SCMP_ACT_ERRNO', errnoRet: 5 },
      ],
    });
    const byNr = new Map(Object.entries(table).map(([n, v]) => [v, n]));
    for (let n = 0; n < 600; n++) {
      const name = byNr.get(n);
      const want = name === undefined ? RET.TRAP : allowed.has(name) ? RET.ALLOW : errnoed.has(name) ? errno(5) : RET.TRAP;
      assert.equal(runSeccomp(c.program, { nr: n, arch: ABI.x86_64.audit }), want, `nr ${n} (${name})`);
    }
  });
});

describe('seccomp: rules with arguments', () => {
  test('several rules for one syscall: argument rules first, in order, then the rule without arguments, then the default', () => {
    const c = compile({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['personality'], action: 'SCMP_ACT_LOG' }, // listed first, still checked last
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_EQ' }] },
        { names: ['personality'], action: 'SCMP_ACT_TRAP', args: [{ index: 0, value: 0xfffffff0, op: 'SCMP_CMP_GE' }] },
        { names: ['personality'], action: 'SCMP_ACT_KILL' }, // a second rule without arguments: the first one wins
        { names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 0x5401, op: 'SCMP_CMP_EQ' }] },
      ],
    });
    assert.equal(call(c, 'personality', [0]), RET.ALLOW);
    assert.equal(call(c, 'personality', [8]), RET.ALLOW);
    assert.equal(call(c, 'personality', [0xffffffff]), errno(22), 'the first matching rule wins');
    assert.equal(call(c, 'personality', [0xfffffff5]), RET.TRAP);
    assert.equal(call(c, 'personality', [5]), RET.LOG);
    assert.equal(call(c, 'personality', [0x1_00000000n]), RET.TRAP, 'the high word counts: not EQ 0, but GE 0xfffffff0');
    assert.equal(call(c, 'ioctl', [1, 0x5401]), RET.ALLOW);
    assert.equal(call(c, 'ioctl', [1, 0x5402]), EPERM, 'no rule without arguments: the default');
  });

  test('the conditions of one rule must all hold', () => {
    const c = compile({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        {
          names: ['mmap'],
          action: 'SCMP_ACT_ALLOW',
          args: [
            { index: 2, value: 4, op: 'SCMP_CMP_MASKED_EQ', valueTwo: 0 }, // not PROT_EXEC
            { index: 5, value: 4096, op: 'SCMP_CMP_LT' },
            { index: 0, value: 0, op: 'SCMP_CMP_EQ' },
          ],
        },
      ],
    });
    assert.equal(call(c, 'mmap', [0, 4096, 3, 0x22, -1, 0]), RET.ALLOW);
    assert.equal(call(c, 'mmap', [0, 4096, 7, 0x22, -1, 0]), EPERM, 'arg 2');
    assert.equal(call(c, 'mmap', [0, 4096, 3, 0x22, -1, 4096]), EPERM, 'arg 5');
    assert.equal(call(c, 'mmap', [0x1000, 4096, 3, 0x22, -1, 0]), EPERM, 'arg 0');
  });

  test('two conditions on the same argument make one rule each (an OR), as runc does', () => {
    const c = compile({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        {
          names: ['socket'],
          action: 'SCMP_ACT_ALLOW',
          args: [
            { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
            { index: 0, value: 2, op: 'SCMP_CMP_EQ' },
          ],
        },
      ],
    });
    assert.equal(call(c, 'socket', [1]), RET.ALLOW);
    assert.equal(call(c, 'socket', [2]), RET.ALLOW);
    assert.equal(call(c, 'socket', [10]), EPERM);
  });

  /** The values around which each operator changes its mind, high words included. */
  const VALUES = [
    0n,
    1n,
    0x7fn,
    0xffffffffn,
    0x1_00000000n,
    0x1_00000001n,
    0xdead_beef_0000_0000n,
    0x8000_0000_0000_0000n,
    0xffff_ffff_0000_0000n,
    0xffff_ffff_ffff_fffen,
    0xffff_ffff_ffff_ffffn,
  ];
  const OPS: Record<string, (a: bigint, v: bigint, v2: bigint) => boolean> = {
    SCMP_CMP_EQ: (a, v) => a === v,
    SCMP_CMP_NE: (a, v) => a !== v,
    SCMP_CMP_LT: (a, v) => a < v,
    SCMP_CMP_LE: (a, v) => a <= v,
    SCMP_CMP_GT: (a, v) => a > v,
    SCMP_CMP_GE: (a, v) => a >= v,
    SCMP_CMP_MASKED_EQ: (a, v, v2) => (a & v) === (v2 & v),
  };
  const around = (v: bigint) => [v - 1n, v, v + 1n].filter((x) => x >= 0n && x < 1n << 64n);
  const lo32 = (v: bigint) => v & 0xffffffffn;

  for (const [op, holds] of Object.entries(OPS)) {
    test(`${op} on full 64-bit values (x86_64, aarch64) and on the low word (x86, x32)`, () => {
      for (const value of VALUES) {
        const valueTwo = op === 'SCMP_CMP_MASKED_EQ' ? 0x1234_5678_9abc_def0n & value : 0n;
        /* bigint values: JSON numbers cannot carry these exactly. */
        const c = compile({
          defaultAction: 'SCMP_ACT_ERRNO',
          architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64'],
          syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW', args: [{ index: 3, value, valueTwo, op }] }],
        });
        const args = [...VALUES.flatMap(around), 0x1234_5678_9abc_def0n, 0x1234_5678_0000_0000n, 0x9abc_def0n];
        for (const a of args) {
          const at = (abi: Abi) => call(c, 'getpid', [0, 0, 0, a], abi);
          const what = `${op} value ${value.toString(16)} arg ${a.toString(16)}`;
          const want64 = holds(a, value, valueTwo) ? RET.ALLOW : EPERM;
          assert.equal(at('x86_64'), want64, `x86_64 ${what}`);
          assert.equal(at('aarch64'), want64, `aarch64 ${what}`);
          const want32 = holds(lo32(a), lo32(value), lo32(valueTwo)) ? RET.ALLOW : EPERM;
          assert.equal(at('x86'), want32, `x86 ${what}`);
          assert.equal(at('x32'), want32, `x32 ${what}`);
        }
      }
    });
  }

  test('MASKED_EQ ignores expected bits outside the mask, as libseccomp does', () => {
    const c = compile({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0xff, valueTwo: 0x1ff, op: 'SCMP_CMP_MASKED_EQ' }] },
      ],
    });
    assert.equal(call(c, 'clone', [0xff]), RET.ALLOW);
    assert.equal(call(c, 'clone', [0x12ff]), RET.ALLOW);
    assert.equal(call(c, 'clone', [0xfe]), EPERM);
  });

  test('JSON numbers: 18446744073709551615 (parsed as 2^64) means ~0; other values are taken as parsed', () => {
    const c = compile(
      JSON.parse(`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 18446744073709551615, "op": "SCMP_CMP_EQ"}]},
      {"names": ["getppid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 9007199254740993, "op": "SCMP_CMP_EQ"}]}]}`),
    );
    assert.equal(call(c, 'getpid', [0xffff_ffff_ffff_ffffn]), RET.ALLOW);
    assert.equal(call(c, 'getpid', [0xffff_ffff_ffff_fffen]), EPERM);
    assert.equal(call(c, 'getppid', [2n ** 53n]), RET.ALLOW, '2^53 + 1 arrives as 2^53: the documented limit');
  });
});

describe('seccomp: architectures', () => {
  const getpidOnly = (architectures?: string[]) =>
    compile({
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures,
      syscalls: [{ names: ['getpid', 'chown32'], action: 'SCMP_ACT_ALLOW' }],
    });

  test('the filter dispatches on seccomp_data.arch first', () => {
    const [first, second] = decodeProgram(getpidOnly().program);
    assert.deepEqual({ code: first?.code, k: first?.k }, { code: 0x20, k: 4 }); // ld [4]
    assert.equal(second?.code, 0x15); // jeq
  });

  test('an architecture not listed gets the bad-arch action (KILL_THREAD), whatever the default', () => {
    for (const defaultAction of ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO']) {
      const c = compile({ defaultAction });
      for (const arch of [ABI.x86.audit, ABI.aarch64.audit, 0x40000028 /* ARM */, 0, 0x12345678])
        assert.equal(runSeccomp(c.program, { nr: 20, arch }), BAD_ARCH, `${defaultAction} arch ${arch.toString(16)}`);
      assert.notEqual(call(c, 'getpid'), BAD_ARCH);
    }
  });

  test('the host architecture is always filtered; the others only when listed', () => {
    const none = getpidOnly();
    assert.equal(call(none, 'getpid'), RET.ALLOW);
    assert.equal(call(none, 'getpid', [], 'x86'), BAD_ARCH);

    const withX86 = getpidOnly(['SCMP_ARCH_X86']); // x86_64 is still filtered, as libseccomp does
    assert.equal(call(withX86, 'getpid'), RET.ALLOW);
    assert.equal(call(withX86, 'getpid', [], 'x86'), RET.ALLOW);
    assert.equal(call(withX86, 'chown32', [], 'x86'), RET.ALLOW);
    assert.equal(call(withX86, 'mkdir', [], 'x86'), EPERM);
    assert.equal(runSeccomp(withX86.program, { nr: 20, arch: ABI.x86.audit }), RET.ALLOW, 'i386 getpid is 20');
    assert.equal(runSeccomp(withX86.program, { nr: 20, arch: ABI.x86_64.audit }), EPERM, 'x86_64 20 is writev');

    const onArm64 = compile(
      {
        defaultAction: 'SCMP_ACT_ERRNO',
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [{ names: ['getpid', 'mkdirat'], action: 'SCMP_ACT_ALLOW' }],
      },
      'arm64',
    );
    assert.equal(call(onArm64, 'getpid', [], 'aarch64'), RET.ALLOW);
    assert.equal(call(onArm64, 'mkdirat', [], 'aarch64'), RET.ALLOW);
    assert.equal(call(onArm64, 'getppid', [], 'aarch64'), EPERM);
    assert.equal(call(onArm64, 'getpid', [], 'x86_64'), RET.ALLOW);
    assert.equal(call(onArm64, 'getpid', [], 'x86'), BAD_ARCH);
  });

  test('x32 numbers (X32_SYSCALL_BIT set) never match an x86_64 rule: bad arch unless SCMP_ARCH_X32 is listed', () => {
    for (const defaultAction of ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO']) {
      const c = getpidOnly(['SCMP_ARCH_X86_64']);
      const d = compile({ defaultAction, syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }] });
      for (const f of [c, d]) {
        assert.equal(call(f, 'getpid', [], 'x32'), BAD_ARCH);
        assert.equal(call(f, 'mkdir', [], 'x32'), BAD_ARCH);
        for (const n of [0x40000000, 0x40000000 | 39, 0x7fffffff, -1])
          assert.equal(runSeccomp(f.program, { nr: n, arch: ABI.x86_64.audit }), BAD_ARCH, `nr ${n}`);
      }
    }
  });

  test('with SCMP_ARCH_X32 listed, x32 numbers follow the x32 table and the default', () => {
    const c = compile({
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'],
      syscalls: [
        { names: ['getpid', 'rt_sigaction'], action: 'SCMP_ACT_ALLOW' },
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 30 },
      ],
    });
    assert.equal(call(c, 'getpid', [], 'x32'), RET.ALLOW);
    assert.equal(call(c, 'rt_sigaction', [], 'x32'), RET.ALLOW, 'x32-only number 512');
    assert.equal(runSeccomp(c.program, { nr: 0x40000000 | 13, arch: ABI.x32.audit }), EPERM, 'x32 13 is not rt_sigaction');
    assert.equal(call(c, 'mkdir', [], 'x32'), errno(30));
    assert.equal(call(c, 'getppid', [], 'x32'), EPERM);
    assert.equal(runSeccomp(c.program, { nr: -1, arch: ABI.x32.audit }), EPERM);
    assert.equal(call(c, 'getpid'), RET.ALLOW);
    assert.equal(call(c, 'rt_sigaction'), RET.ALLOW);
    assert.equal(call(c, 'getppid'), EPERM);
  });

  test('names an architecture has no number for are skipped and reported', () => {
    const c = compile({
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86'],
      syscalls: [
        { names: ['getpid', 'chown32', 'no_such_call', 'newfstatat'], action: 'SCMP_ACT_ALLOW' },
        { names: ['no_such_call', 'constructor'], action: 'SCMP_ACT_LOG' },
      ],
    });
    assert.deepEqual(c.skipped, [
      { arch: 'SCMP_ARCH_X86_64', name: 'chown32' },
      { arch: 'SCMP_ARCH_X86_64', name: 'no_such_call' },
      { arch: 'SCMP_ARCH_X86_64', name: 'constructor' },
      { arch: 'SCMP_ARCH_X86', name: 'no_such_call' },
      { arch: 'SCMP_ARCH_X86', name: 'newfstatat' },
      { arch: 'SCMP_ARCH_X86', name: 'constructor' },
    ]);
    assert.equal(call(c, 'chown32', [], 'x86'), RET.ALLOW);
    assert.equal(call(c, 'newfstatat'), RET.ALLOW);
    assert.equal(call(c, 'getpid', [], 'x86'), RET.ALLOW);
  });
});

describe('seccomp: flags and the notify listener', () => {
  test('flags are OR-ed; notify and the listener are reported only when a notify action is used', () => {
    const c = compile({
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: '/run/agent.sock',
      listenerMetadata: 'x',
      flags: [
        'SECCOMP_FILTER_FLAG_TSYNC',
        'SECCOMP_FILTER_FLAG_LOG',
        'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
        'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
      ],
    });
    assert.equal(c.flags, 1 | 2 | 4 | 32);
    assert.equal(c.notify, false);
    assert.equal(c.listenerPath, undefined);
    assert.equal(c.listenerMetadata, undefined);

    const n = compile({
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: '/run/agent.sock',
      listenerMetadata: 'MKNOD=/dev/null',
      syscalls: [{ names: ['mknod'], action: 'SCMP_ACT_NOTIFY' }],
    });
    assert.equal(n.flags, 0);
    assert.equal(n.notify, true);
    assert.equal(n.listenerPath, '/run/agent.sock');
    assert.equal(n.listenerMetadata, 'MKNOD=/dev/null');
    assert.equal(call(n, 'mknod'), RET.USER_NOTIF);
  });
});

describe('seccomp: validation', () => {
  const base = { defaultAction: 'SCMP_ACT_ERRNO' };
  const sys = (rule: object) => ({ ...base, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, rule] });
  const arg = (a: unknown) => sys({ names: ['write'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, a] });
  const cases: Array<[unknown, RegExp]> = [
    ['SCMP_ACT_ALLOW', /^config\.json: linux\.seccomp: expected object, got string$/],
    [{}, /linux\.seccomp\.defaultAction: is required/],
    [{ defaultAction: 'SCMP_ACT_FOO' }, /linux\.seccomp\.defaultAction: unknown action "SCMP_ACT_FOO"/],
    [{ defaultAction: 'allow' }, /linux\.seccomp\.defaultAction: unknown action "allow"/],
    [
      { defaultAction: 'SCMP_ACT_KILL', defaultErrnoRet: 1 },
      /linux\.seccomp\.defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take a return value, not SCMP_ACT_KILL/,
    ],
    [{ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 65536 }, /linux\.seccomp\.defaultErrnoRet: 65536 is out of range \[0, 65535\]/],
    [{ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: -1 }, /linux\.seccomp\.defaultErrnoRet: -1 is out of range/],
    [{ ...base, architectures: ['SCMP_ARCH_FOO'] }, /linux\.seccomp\.architectures\[0\]: unknown architecture "SCMP_ARCH_FOO"/],
    [
      { ...base, architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_PPC64LE'] },
      /linux\.seccomp\.architectures\[1\]: SCMP_ARCH_PPC64LE is not supported by this version of droplet/,
    ],
    [{ ...base, architectures: ['SCMP_ARCH_ARM'] }, /linux\.seccomp\.architectures\[0\]: SCMP_ARCH_ARM is not supported/],
    [{ ...base, architectures: 'SCMP_ARCH_X86' }, /linux\.seccomp\.architectures: expected array/],
    [
      { ...base, flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_NEW_LISTENER'] },
      /linux\.seccomp\.flags\[1\]: unknown flag "SECCOMP_FILTER_FLAG_NEW_LISTENER"/,
    ],
    [{ defaultAction: 'SCMP_ACT_NOTIFY' }, /linux\.seccomp\.defaultAction: SCMP_ACT_NOTIFY needs linux\.seccomp\.listenerPath/],
    [
      {
        ...base,
        syscalls: [
          { names: ['a'], action: 'SCMP_ACT_ALLOW' },
          { names: ['b'], action: 'SCMP_ACT_LOG' },
          { names: ['c'], action: 'SCMP_ACT_NOTIFY' },
        ],
      },
      /linux\.seccomp\.syscalls\[2\]\.action: SCMP_ACT_NOTIFY needs linux\.seccomp\.listenerPath/,
    ],
    [{ ...base, listenerMetadata: 'x' }, /linux\.seccomp\.listenerMetadata: needs linux\.seccomp\.listenerPath/],
    [{ ...base, listenerPath: 'agent.sock' }, /linux\.seccomp\.listenerPath: "agent\.sock" is not an absolute path/],
    [{ ...base, listenerPath: `/${'x'.repeat(107)}` }, /linux\.seccomp\.listenerPath: longer than the 107 bytes/],
    [{ ...base, syscalls: {} }, /linux\.seccomp\.syscalls: expected array, got object/],
    [{ ...base, syscalls: ['read'] }, /linux\.seccomp\.syscalls\[0\]: expected object, got string/],
    [sys({ action: 'SCMP_ACT_ALLOW' }), /linux\.seccomp\.syscalls\[1\]\.names: must name at least one syscall/],
    [sys({ names: [], action: 'SCMP_ACT_ALLOW' }), /linux\.seccomp\.syscalls\[1\]\.names: must name at least one syscall/],
    [sys({ names: 'read', action: 'SCMP_ACT_ALLOW' }), /linux\.seccomp\.syscalls\[1\]\.names: expected array, got string/],
    [sys({ names: ['read', ''], action: 'SCMP_ACT_ALLOW' }), /linux\.seccomp\.syscalls\[1\]\.names\[1\]: is empty/],
    [sys({ names: ['read', 3], action: 'SCMP_ACT_ALLOW' }), /linux\.seccomp\.syscalls\[1\]\.names\[1\]: expected string, got number/],
    [sys({ names: ['read'] }), /linux\.seccomp\.syscalls\[1\]\.action: is required/],
    [
      { ...base, syscalls: [...Array(3).fill({ names: ['x'], action: 'SCMP_ACT_ALLOW' }), { names: ['x'], action: 'SCMP_ACT_FOO' }] },
      /linux\.seccomp\.syscalls\[3\]\.action: unknown action "SCMP_ACT_FOO"/,
    ],
    [
      sys({ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }),
      /linux\.seccomp\.syscalls\[1\]\.errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take a return value, not SCMP_ACT_ALLOW/,
    ],
    [
      sys({ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 'EPERM' }),
      /linux\.seccomp\.syscalls\[1\]\.errnoRet: expected integer, got string/,
    ],
    [sys({ names: ['read'], action: 'SCMP_ACT_ALLOW', args: {} }), /linux\.seccomp\.syscalls\[1\]\.args: expected array, got object/],
    [
      sys({
        names: ['read'],
        action: 'SCMP_ACT_ALLOW',
        args: Array.from({ length: 7 }, (_, i) => ({ index: i % 6, value: 0, op: 'SCMP_CMP_EQ' })),
      }),
      /linux\.seccomp\.syscalls\[1\]\.args: a syscall has 6 arguments, got 7 conditions/,
    ],
    [arg({ index: 6, value: 1, op: 'SCMP_CMP_EQ' }), /linux\.seccomp\.syscalls\[1\]\.args\[1\]\.index: 6 is out of range \[0, 5\]/],
    [arg({ index: -1, value: 1, op: 'SCMP_CMP_EQ' }), /linux\.seccomp\.syscalls\[1\]\.args\[1\]\.index: -1 is out of range \[0, 5\]/],
    [arg({ value: 1, op: 'SCMP_CMP_EQ' }), /linux\.seccomp\.syscalls\[1\]\.args\[1\]\.index: is required/],
    [arg({ index: '1', value: 1, op: 'SCMP_CMP_EQ' }), /linux\.seccomp\.syscalls\[1\]\.args\[1\]\.index: expected integer, got string/],
    [arg({ index: 1, value: 1, op: 'SCMP_CMP_FOO' }), /linux\.seccomp\.syscalls\[1\]\.args\[1\]\.op: unknown operator "SCMP_CMP_FOO"/],
    [arg({ index: 1, value: 1, op: 'EQ' }), /linux\.seccomp\.syscalls\[1\]\.args\[1\]\.op: unknown operator "EQ"/],
    [arg({ index: 1, value: 1 }), /linux\.seccomp\.syscalls\[1\]\.args\[1\]\.op: is required/],
    [arg({ index: 1, op: 'SCMP_CMP_EQ' }), /linux\.seccomp\.syscalls\[1\]\.args\[1\]\.value: is required/],
    [
      arg({ index: 1, value: -1, op: 'SCMP_CMP_EQ' }),
      /linux\.seccomp\.syscalls\[1\]\.args\[1\]\.value: -1 is out of range \[0, 18446744073709551615\]/,
    ],
    [arg({ index: 1, value: 1.5, op: 'SCMP_CMP_EQ' }), /linux\.seccomp\.syscalls\[1\]\.args\[1\]\.value: 1\.5 is not an integer/],
    [arg({ index: 1, value: '0x10', op: 'SCMP_CMP_EQ' }), /linux\.seccomp\.syscalls\[1\]\.args\[1\]\.value: expected integer, got string/],
    [
      arg({ index: 1, value: 2 ** 65, op: 'SCMP_CMP_EQ' }),
      /linux\.seccomp\.syscalls\[1\]\.args\[1\]\.value: 36893488147419103232 is out of range/,
    ],
    [
      arg({ index: 1, value: 1n << 64n, op: 'SCMP_CMP_EQ' }),
      /linux\.seccomp\.syscalls\[1\]\.args\[1\]\.value: 18446744073709551616 is out of range/,
    ],
    [
      arg({ index: 1, value: 1, valueTwo: -2, op: 'SCMP_CMP_MASKED_EQ' }),
      /linux\.seccomp\.syscalls\[1\]\.args\[1\]\.valueTwo: -2 is out of range/,
    ],
    [arg('x'), /linux\.seccomp\.syscalls\[1\]\.args\[1\]: expected object, got string/],
  ];

  for (const [cfg, want] of cases) {
    test(`refuses ${want.source.replace(/\\/g, '').slice(0, 90)}`, () => {
      assert.throws(
        () => compile(cfg as object),
        (err: unknown) => {
          assert.ok(err instanceof UserError, `not a UserError: ${err}`);
          assert.match(err.message, /^config\.json: linux\.seccomp/);
          assert.match(err.message, want);
          return true;
        },
      );
    });
  }

  test('a host architecture without a syscall table is refused', () => {
    assert.throws(() => compile(base, 'arm'), /linux\.seccomp: this host's architecture \(SCMP_ARCH_ARM\) is not supported/);
    assert.throws(() => compile(base, 'ppc64'), /linux\.seccomp: this host's architecture \(ppc64\) is not supported/);
  });

  test('a filter longer than BPF_MAXINSNS is refused', () => {
    const names = Object.keys(X86_64).slice(0, 200);
    const args = [0, 1, 2, 3, 4, 5].map((index) => ({ index, value: 0x1_0000_0000 + index, op: 'SCMP_CMP_EQ' }));
    assert.throws(
      () => compile({ ...base, syscalls: [{ names, action: 'SCMP_ACT_ALLOW', args }] }),
      /config\.json: linux\.seccomp: the filter needs \d+ BPF instructions, more than the kernel's limit of 4096$/,
    );
  });
});

describe('seccomp: long programs', () => {
  test('branches beyond the 255-instruction reach of a conditional jump still land right', () => {
    /* One rule with arguments per syscall: ~10 instructions each, so the search tree's early
     * branches and the arch dispatch must jump over thousands of instructions. */
    const names = Object.keys(X86_64).filter((_, i) => i % 2 === 0);
    const c = compile({
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      syscalls: names.map((name) => ({
        names: [name],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: nr(X86_64, name) & 0xfff,
        args: [{ index: 1, value: nr(X86_64, name) + 0x1_0000_0000, op: 'SCMP_CMP_EQ' }],
      })),
    });
    const insns = decodeProgram(c.program);
    assert.ok(insns.length > 1500, `${insns.length} instructions`);
    assert.ok(
      insns.some((i) => i.code === 0x05),
      'some branch goes through a ja',
    );
    for (const name of names) {
      const n = nr(X86_64, name);
      assert.equal(call(c, name, [0, n + 0x1_0000_0000]), errno(n & 0xfff), name);
      assert.equal(call(c, name, [0, n]), EPERM, name);
    }
    /* x86 compares the low word only, and its numbers differ: the rule is found by name. */
    const onX86 = names.filter((name) => Object.hasOwn(X86, name));
    assert.ok(onX86.length > 100);
    for (const name of onX86) {
      const n = nr(X86_64, name);
      assert.equal(call(c, name, [0, n], 'x86'), errno(n & 0xfff), `x86 ${name}`);
      assert.equal(call(c, name, [0, n + 1], 'x86'), EPERM, `x86 ${name}`);
    }
  });
});

describe("seccomp: Docker's default profile", () => {
  const profile = JSON.parse(readFileSync(join(REPO, 'test/fixtures/seccomp/docker-default-amd64.json'), 'utf8'));
  const c = compile(profile);

  test('compiles well under BPF_MAXINSNS', (t) => {
    const count = c.program.length / 8;
    t.diagnostic(`${count} instructions, ${c.skipped.length} (arch, name) pairs skipped`);
    assert.ok(count < 1024, `${count} instructions`);
    assert.equal(c.notify, false);
    assert.equal(c.flags, 0);
    assert.ok(c.skipped.some((s) => s.arch === 'SCMP_ARCH_X86_64' && s.name === 'chown32'));
    assert.ok(!c.skipped.some((s) => s.name === 'read'));
  });

  test('every syscall number of each listed ABI gets what the profile says', () => {
    const plain = new Map<string, number>(); // names with only a rule without arguments
    const withArgs = new Set<string>();
    for (const s of profile.syscalls as Array<{ names: string[]; action: string; errnoRet?: number; args?: unknown[] }>)
      for (const name of s.names) {
        if (s.args) withArgs.add(name);
        else if (!plain.has(name)) plain.set(name, s.action === 'SCMP_ACT_ALLOW' ? RET.ALLOW : errno(s.errnoRet ?? 1));
      }
    for (const abi of ['x86_64', 'x86', 'x32'] as const) {
      const { table, audit } = ABI[abi];
      const base = abi === 'x32' ? 0x40000000 : 0;
      const byNr = new Map(Object.entries(table).map(([n, v]) => [v, n]));
      for (let n = base; n < base + 600; n++) {
        const name = byNr.get(n);
        if (name && withArgs.has(name)) continue;
        const want = name && plain.has(name) ? plain.get(name)! : EPERM;
        assert.equal(runSeccomp(c.program, { nr: n, arch: audit }), want, `${abi} nr ${n} (${name})`);
      }
    }
    assert.equal(call(c, 'read', [], 'aarch64'), BAD_ARCH);
  });

  test('its argument rules: socket, personality, clone, and clone3 failing with ENOSYS', () => {
    for (const abi of ['x86_64', 'x86', 'x32'] as const) {
      assert.equal(call(c, 'socket', [2, 1, 0], abi), RET.ALLOW, `${abi} AF_INET`);
      assert.equal(call(c, 'socket', [40, 1, 0], abi), EPERM, `${abi} AF_VSOCK`);
      for (const p of [0, 8, 0x20000, 0x20008, 0xffffffff])
        assert.equal(call(c, 'personality', [p], abi), RET.ALLOW, `${abi} personality ${p}`);
      assert.equal(call(c, 'personality', [0x0040000], abi), EPERM, `${abi} ADDR_NO_RANDOMIZE`);
      assert.equal(call(c, 'clone', [0x01200011], abi), RET.ALLOW, `${abi} fork-like clone`); // CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD
      assert.equal(call(c, 'clone', [0x00020011], abi), EPERM, `${abi} CLONE_NEWNS`);
      assert.equal(call(c, 'clone', [0x10000011], abi), EPERM, `${abi} CLONE_NEWUSER`);
    }
    assert.equal(call(c, 'personality', [0x1_ffffffffn]), EPERM, 'x86_64 compares the high word');
    assert.equal(call(c, 'personality', [0x1_ffffffffn], 'x86'), RET.ALLOW, 'x86 does not');
    assert.equal(call(c, 'clone3'), errno(38));
    assert.equal(call(c, 'clone3', [], 'x86'), errno(38));
    assert.equal(call(c, 'mount'), EPERM);
    assert.equal(call(c, 'chroot'), RET.ALLOW);
  });
});
