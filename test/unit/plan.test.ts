import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSignal } from '../../src/lib/signals.js';
import { describeInitError } from '../../src/droplet/container/launch.js';
import { capabilityMasks } from '../../src/droplet/plan/capabilities.js';
import { encodePlan, type PlanRecord } from '../../src/droplet/plan/encode.js';
import { MOUNT_ATTR, MS, parseMountOptions } from '../../src/droplet/plan/mount-options.js';
import { Tag } from '../../src/droplet/plan/tags.js';

/** The decoder of native/init/plan.c, in TypeScript, to check the encoder against. */
function decode(buf: Buffer): Array<{ tag: number; fields: Buffer[] }> {
  assert.equal(buf.readUInt32LE(0), buf.length - 4);
  assert.equal(buf.toString('latin1', 4, 8), 'DPL1');
  const out = [];
  let off = 8;
  while (off < buf.length) {
    const tag = buf.readUInt16LE(off);
    const len = buf.readUInt32LE(off + 4);
    const end = off + 8 + len;
    const fields: Buffer[] = [];
    for (let p = off + 8; p < end; ) {
      const n = buf.readUInt32LE(p);
      fields.push(buf.subarray(p + 4, p + 4 + n));
      p += 4 + n;
    }
    out.push({ tag, fields });
    off = end;
  }
  return out;
}

describe('the launch plan encoding', () => {
  test("records, strings with their NUL, numbers as u64 (negative ones in two's complement)", () => {
    const recs: PlanRecord[] = [
      { tag: Tag.Hostname, fields: ['héllo'], what: '' },
      { tag: Tag.Rlimit, fields: [7, 1024, -1], what: '' },
      { tag: Tag.Caps, fields: [1n << 40n, 0n, 0n, (1n << 64n) - 1n, 5n], what: '' },
      { tag: Tag.Loopback, fields: [], what: '' },
    ];
    const d = decode(encodePlan(recs));
    assert.deepEqual(
      d.map((r) => r.tag),
      [Tag.Hostname, Tag.Rlimit, Tag.Caps, Tag.Loopback],
    );
    assert.equal(d[0]?.fields[0]?.toString('utf8'), 'héllo\0');
    assert.deepEqual(
      d[1]?.fields.map((f) => f.readBigUInt64LE(0)),
      [7n, 1024n, (1n << 64n) - 1n],
    );
    assert.deepEqual(
      d[2]?.fields.map((f) => f.readBigUInt64LE(0)),
      [1n << 40n, 0n, 0n, (1n << 64n) - 1n, 5n],
    );
    assert.deepEqual(d[3]?.fields, []);
  });

  test('large integers below 2^53 keep their high word', () => {
    const d = decode(encodePlan([{ tag: Tag.Rlimit, fields: [2 ** 40 + 3], what: '' }]));
    assert.equal(d[0]?.fields[0]?.readBigUInt64LE(0), 2n ** 40n + 3n);
  });
});

describe('mount options', () => {
  test('flags set and cleared, propagation, and the rest as data', () => {
    const o = parseMountOptions(['nosuid', 'noexec', 'ro', 'rw', 'ro', 'mode=755', 'size=1m', 'rslave'], 'mounts[0]');
    assert.equal(o.flags, MS.NOSUID | MS.NOEXEC | MS.RDONLY);
    assert.equal(o.propagation, MS.SLAVE | MS.REC);
    assert.equal(o.data, 'mode=755,size=1m');
    assert.equal(o.bind, false);
    assert.equal(parseMountOptions(['rbind'], 'm').flags, MS.BIND | MS.REC);
    assert.equal(parseMountOptions(['bind'], 'm').bind, true);
  });

  test("an option named like an Object member is the filesystem's data, not a flag", () => {
    const o = parseMountOptions(['constructor', 'toString', 'ro'], 'mounts[0]');
    assert.equal(o.data, 'constructor,toString');
    assert.equal(o.flags, MS.RDONLY);
  });

  test('options that need more than mount(2) are refused, naming the option', () => {
    assert.throws(() => parseMountOptions(['nodev', 'idmap'], 'mounts[3]'), /mounts\[3\]\.options\[1\]: "idmap" is not supported/);
    assert.throws(() => parseMountOptions(['src-nofollow'], 'mounts[0]'), /"src-nofollow"/);
  });

  test('recursive options become mount_setattr attributes; atime ones replace the atime mode', () => {
    const o = parseMountOptions(['rbind', 'rro', 'rnosuid', 'rnoexec', 'rexec', 'rnoatime'], 'm');
    assert.equal(o.attrSet, MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NOATIME);
    assert.equal(o.attrClr, MOUNT_ATTR.NOEXEC | MOUNT_ATTR.ATIME_MASK);
    assert.equal(parseMountOptions(['tmpcopyup'], 'm').tmpcopyup, true);
  });
});

describe('capabilities', () => {
  test('names map to their bits, case-insensitively', () => {
    const [bounding, effective] = capabilityMasks({
      bounding: ['CAP_KILL', 'cap_chown'],
      effective: ['CAP_CHECKPOINT_RESTORE'],
      inheritable: [],
      permitted: ['CAP_CHECKPOINT_RESTORE'],
      ambient: [],
    });
    assert.equal(bounding, (1n << 5n) | 1n);
    assert.equal(effective, 1n << 40n);
  });
  test('unknown names are all named', () => {
    assert.throws(
      () => capabilityMasks({ bounding: [], effective: ['CAP_X', 'CAP_KILL', 'CAP_Y'], inheritable: [], permitted: [], ambient: [] }),
      /process\.capabilities\.effective: unknown capabilities: CAP_X, CAP_Y/,
    );
  });
});

describe('signals', () => {
  test('names with or without SIG, any case, and numbers', () => {
    assert.equal(parseSignal('TERM', 'kill'), 'SIGTERM');
    assert.equal(parseSignal('SIGKILL', 'kill'), 'SIGKILL');
    assert.equal(parseSignal('hup', 'kill'), 'SIGHUP');
    assert.equal(parseSignal('9', 'kill'), 9);
    assert.equal(parseSignal('34', 'kill'), 34);
    assert.throws(() => parseSignal('0', 'kill'), /invalid signal "0"/);
    assert.throws(() => parseSignal('65', 'kill'), /invalid signal "65"/);
    assert.throws(() => parseSignal('SIGFOO', 'kill'), /unknown signal "SIGFOO"/);
  });
});

describe('init errors', () => {
  const mount: PlanRecord = { tag: Tag.Mount, fields: [], what: 'mount "proc" on /proc', field: 'mounts[0]' };
  test('step, target, reason and field in one line', () => {
    assert.equal(
      describeInitError(mount, 1, 'Operation not permitted', '/proc'),
      'mount "proc" on /proc: operation not permitted (mounts[0])',
    );
  });
  test("a missing executable reads like runc's", () => {
    const exec: PlanRecord = { tag: Tag.Exec, fields: [], what: 'exec "foo"', field: 'process.args[0]' };
    assert.equal(
      describeInitError(exec, 2, 'No such file or directory', 'foo'),
      'exec: "foo": executable file not found in $PATH (process.args[0])',
    );
    assert.equal(
      describeInitError(exec, 2, 'No such file or directory', '/bin/foo'),
      'exec "foo": no such file or directory (process.args[0])',
    );
  });
  test('a step that does several things names the one that failed', () => {
    const user: PlanRecord = { tag: Tag.User, fields: [], what: 'set user 1000:1000', field: 'process.user' };
    assert.equal(
      describeInitError(user, 1, 'Operation not permitted', 'setgroups'),
      'set user 1000:1000: setgroups: operation not permitted (process.user)',
    );
  });
});
