import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadSpec } from '../../src/droplet/load-spec.js';
import { compileSeccomp } from '../../src/droplet/seccomp/compile.js';
import { runSeccomp } from '../helpers/bpf.js';
import { baseConfig, makeBundle, type Bundle } from '../helpers/bundle.js';
import { droplet, uniqueId } from '../helpers/droplet.js';
import { leftovers } from '../helpers/leaks.js';
import { configWith, expectRefused } from '../helpers/refused.js';

/** 64-bit values of config.json are read exactly: JSON.parse would round anything above 2^53
 * (RLIM_INFINITY, 18446744073709551615, became 2^64 and was encoded as 0). */

const RLIM_INFINITY = '18446744073709551615';
const ABOVE_2_53 = '9007199254740993';

/** A config.json text with raw numbers spliced in where the placeholders are. */
function configText(mutate: (c: any) => void, raw: Record<string, string>): string {
  let text = JSON.stringify(configWith(mutate));
  for (const [k, v] of Object.entries(raw)) text = text.split(`"${k}"`).join(v);
  return text;
}

describe('64-bit integers in config.json', () => {
  let b: Bundle;
  before(() => {
    b = makeBundle();
  });
  after(() => b.cleanup());

  test('rlimits, resource limits and seccomp argument values keep every digit', () => {
    b.write(
      configText(
        (c) => {
          c.process.rlimits = [
            { type: 'RLIMIT_CORE', soft: '@inf', hard: '@inf' },
            { type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 },
          ];
          c.linux.resources.memory = { limit: '@big', swap: '@i64max' };
          c.linux.resources.pids = { limit: '@big' };
          c.linux.resources.hugepageLimits = [{ pageSize: '2MB', limit: '@inf' }];
          c.linux.seccomp = {
            defaultAction: 'SCMP_ACT_ALLOW',
            architectures: ['SCMP_ARCH_X86_64'],
            syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: '@big', op: 'SCMP_CMP_EQ' }] }],
          };
        },
        { '@inf': RLIM_INFINITY, '@big': ABOVE_2_53, '@i64max': '9223372036854775807' },
      ),
    );
    const spec = loadSpec(b.dir);
    assert.deepEqual(
      spec.process.rlimits.map((r) => [r.soft, r.hard]),
      [
        [2n ** 64n - 1n, 2n ** 64n - 1n],
        [1024n, 1024n],
      ],
    );
    assert.equal(spec.linux.resources.memory?.limit, BigInt(ABOVE_2_53));
    assert.equal(spec.linux.resources.memory?.swap, 2n ** 63n - 1n);
    assert.equal(spec.linux.resources.pids?.limit, BigInt(ABOVE_2_53));
    assert.equal(spec.linux.resources.hugepageLimits[0]?.limit, 2n ** 64n - 1n);
    /* the filter compares all 64 bits: 2^53 + 1 matches, its rounded neighbour 2^53 does not */
    const { program } = compileSeccomp(spec.linux.seccomp, 'x64');
    const verdict = (arg: bigint) => runSeccomp(program, { nr: 135 /* personality */, arch: 0xc000003e, args: [arg] }) >>> 16;
    assert.equal(verdict(BigInt(ABOVE_2_53)), 0x0005, 'SCMP_ACT_ERRNO for 2^53 + 1');
    assert.equal(verdict(2n ** 53n), 0x7fff, 'SCMP_ACT_ALLOW for 2^53');
  });

  test('RLIM_INFINITY stays unlimited in the container', () => {
    b.write(
      configText(
        (c) => {
          c.process.args = ['/bin/sh', '-c', 'grep -E "^Max (core file size|open files)" /proc/self/limits | tr -s " " | sed "s/ *$//"'];
          c.process.rlimits = [
            { type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 },
            { type: 'RLIMIT_CORE', soft: '@inf', hard: '@inf' },
          ];
        },
        { '@inf': RLIM_INFINITY },
      ),
    );
    const id = uniqueId('inf');
    const r = droplet(b.root, ['run', '-b', b.dir, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Max core file size unlimited unlimited bytes\nMax open files 1024 1024 files\n');
    assert.deepEqual(leftovers(b.root, id, b.dir), []);
  });

  test('a limit the host refuses is named with its rlimit and field', () => {
    /* the hard limit of open files cannot be raised without CAP_SYS_RESOURCE */
    const text = configText(
      (c) => {
        c.process.rlimits = [
          { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
          { type: 'RLIMIT_NOFILE', soft: '@inf', hard: '@inf' },
        ];
      },
      { '@inf': RLIM_INFINITY },
    );
    expectRefused(b, text, /set RLIMIT_NOFILE to unlimited:unlimited: operation not permitted.* \(process\.rlimits\[1\]\)$/);
    b.write(baseConfig());
  });
});
