import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  writeFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { unpackLayer } from '../../src/condenser/store/unpack.js';
import { makeRawTar, makeTar, paxBlock, rawEntry, type TarEntry } from '../helpers/layer-tar.js';

let base: string;
before(() => {
  base = mkdtempSync(join(tmpdir(), 'raind-unpack-'));
});
after(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
/** A fresh layer directory and, beside it, an "outside" directory an escape would write to. */
function dirs(): { layer: string; outside: string } {
  const d = join(base, `case${n++}`);
  const layer = join(d, 'layer');
  const outside = join(d, 'outside');
  mkdirSync(layer, { recursive: true });
  mkdirSync(outside);
  return { layer, outside };
}

async function unpack(entries: TarEntry[], layer: string, gzip = false): Promise<string> {
  const tar = await makeTar(entries);
  return unpackLayer(Readable.from([gzip ? gzipSync(tar) : tar]), gzip ? 'gzip' : 'none', 'test', layer, 'layer L');
}

describe('layer unpacking', () => {
  test('keeps files, directories, symlinks, hard links, modes incl. setuid/setgid/sticky, owners and mtimes', async () => {
    const { layer } = dirs();
    const mtime = new Date('2023-05-06T07:08:09Z');
    const entries: TarEntry[] = [
      { name: 'bin/', type: 'directory', mode: 0o755, mtime },
      { name: 'bin/tool', content: '#!/bin/sh\n', mode: 0o4755, uid: 1000, gid: 1001, mtime },
      { name: 'bin/sgid', content: 'x', mode: 0o2711, mtime },
      { name: 'tmp/', type: 'directory', mode: 0o1777, mtime },
      { name: 'bin/sh', type: 'symlink', linkname: 'tool', uid: 7, gid: 8 },
      { name: 'bin/hard', type: 'link', linkname: 'bin/tool', mode: 0o4755, uid: 1000, gid: 1001, mtime },
      { name: './etc/deep/file', content: 'deep' },
    ];
    const tar = await makeTar(entries);
    const diffId = await unpack(entries, layer, true);
    assert.equal(
      diffId,
      `sha256:${createHash('sha256').update(tar).digest('hex')}`,
      'the diff ID is the digest of the uncompressed archive',
    );
    const tool = statSync(join(layer, 'bin/tool'));
    assert.equal(tool.mode & 0o7777, 0o4755);
    assert.equal(tool.uid, 1000);
    assert.equal(tool.gid, 1001);
    assert.equal(tool.mtime.getTime(), mtime.getTime());
    assert.equal(statSync(join(layer, 'bin/sgid')).mode & 0o7777, 0o2711);
    assert.equal(statSync(join(layer, 'tmp')).mode & 0o7777, 0o1777);
    assert.equal(statSync(join(layer, 'bin')).mtime.getTime(), mtime.getTime(), 'directory times are set after their contents');
    assert.equal(readlinkSync(join(layer, 'bin/sh')), 'tool');
    assert.equal(lstatSync(join(layer, 'bin/sh')).uid, 7);
    assert.equal(statSync(join(layer, 'bin/hard')).ino, tool.ino);
    assert.equal(readFileSync(join(layer, 'etc/deep/file'), 'utf8'), 'deep');
  });

  test('whiteouts become 0:0 character devices, opaque markers the overlay xattr', async () => {
    const { layer } = dirs();
    await unpack(
      [
        { name: 'etc/', type: 'directory' },
        { name: 'etc/.wh.passwd', content: '' },
        { name: 'var/', type: 'directory' },
        { name: 'var/.wh..wh..opq', content: '' },
        { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
        { name: 'run/fifo', type: 'fifo', mode: 0o600 },
      ],
      layer,
    );
    const wh = lstatSync(join(layer, 'etc/passwd'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.ok(!existsSync(join(layer, 'etc/.wh.passwd')));
    assert.ok(!existsSync(join(layer, 'var/.wh..wh..opq')));
    assert.equal(
      execFileSync(
        'python3',
        ['-c', 'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], "trusted.overlay.opaque").decode())', join(layer, 'var')],
        { encoding: 'utf8' },
      ),
      'y',
    );
    const dev = lstatSync(join(layer, 'dev/null'));
    assert.ok(dev.isCharacterDevice());
    assert.equal(dev.rdev, (1 << 8) | 3);
    assert.ok(lstatSync(join(layer, 'run/fifo')).isFIFO());
  });

  test('xattrs from PAX records; overlay attributes from the archive are dropped', async () => {
    const { layer } = dirs();
    await unpack(
      [
        { name: 'etc/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y', 'SCHILY.xattr.user.dir': 'd' } },
        {
          name: 'etc/conf',
          content: 'x',
          uid: 5,
          mode: 0o755,
          pax: { 'SCHILY.xattr.user.note': 'hello', 'SCHILY.xattr.security.test': 'v' },
        },
      ],
      layer,
    );
    const get = (path: string, name: string) =>
      execFileSync(
        'python3',
        [
          '-c',
          'import os,sys\ntry: sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2]).decode())\nexcept OSError: sys.stdout.write("-")',
          path,
          name,
        ],
        {
          encoding: 'utf8',
        },
      );
    assert.equal(get(join(layer, 'etc/conf'), 'user.note'), 'hello');
    assert.equal(get(join(layer, 'etc'), 'user.dir'), 'd');
    assert.equal(get(join(layer, 'etc'), 'trusted.overlay.opaque'), '-');
    assert.equal(statSync(join(layer, 'etc/conf')).uid, 5);
  });

  test('binary xattr values (security.capability) arrive byte for byte, set after the owner; a global PAX header applies under each entry header', async () => {
    const { layer } = dirs();
    /* VFS_CAP_REVISION_2 with the effective flag, cap_net_raw permitted */
    const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex');
    const odd = Buffer.from([0xff, 0x00, 0x0a, 0x3d, 0xc3, 0x28, 0x20]);
    const tar = Buffer.concat([
      paxBlock('g', [
        ['SCHILY.xattr.user.global', Buffer.from('g')],
        ['SCHILY.xattr.user.odd', Buffer.from('replaced')],
      ]),
      paxBlock('x', [
        ['SCHILY.xattr.security.capability', cap],
        ['SCHILY.xattr.user.odd', odd],
        ['SCHILY.xattr.trusted.overlay.redirect', Buffer.from('/x')],
      ]),
      await makeTar([{ name: 'bin/ping', content: 'x', uid: 5, gid: 6, mode: 0o755 }]),
    ]);
    await unpackLayer(Readable.from([tar]), 'none', 'test', layer, 'layer L');
    const hex = (name: string) =>
      execFileSync(
        'python3',
        [
          '-c',
          'import os,sys\ntry: sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2]).hex())\nexcept OSError: sys.stdout.write("-")',
          join(layer, 'bin/ping'),
          name,
        ],
        { encoding: 'utf8' },
      );
    assert.equal(hex('security.capability'), cap.toString('hex'));
    assert.equal(hex('user.odd'), odd.toString('hex'));
    assert.equal(hex('user.global'), Buffer.from('g').toString('hex'));
    assert.equal(hex('trusted.overlay.redirect'), '-');
    assert.equal(statSync(join(layer, 'bin/ping')).uid, 5);
  });

  test('a PAX record whose length overruns its header fails the layer', async () => {
    const { layer } = dirs();
    const bad = Buffer.from('99 SCHILY.xattr.user.a=b\n');
    const tar = await makeRawTar([rawEntry('x', bad), { name: 'f', content: 'x' }]);
    await assert.rejects(
      unpackLayer(Readable.from([tar]), 'none', 'test', layer, 'layer L'),
      /layer L: malformed PAX record at byte 0: length 99 does not end at a newline/,
    );
  });

  test('a hard link header sets the owner, mode, xattrs and time, as docker does; a link to a symlink changes only the symlink', async () => {
    const { layer, outside } = dirs();
    const victim = join(outside, 'victim');
    writeFileSync(victim, 'v');
    chmodSync(victim, 0o600);
    const mtime = new Date('2022-02-03T04:05:06Z');
    await unpack(
      [
        { name: 'tool', content: 'x', mode: 0o644, uid: 1, gid: 2 },
        { name: 'tool-hard', type: 'link', linkname: 'tool', mode: 0o4711, uid: 3, gid: 4, mtime, pax: { 'SCHILY.xattr.user.k': 'v' } },
        { name: 'out', type: 'symlink', linkname: victim },
        { name: 'out-hard', type: 'link', linkname: 'out', mode: 0o777, uid: 9, gid: 9 },
      ],
      layer,
    );
    const tool = statSync(join(layer, 'tool'));
    assert.equal(tool.mode & 0o7777, 0o4711);
    assert.equal(tool.uid, 3);
    assert.equal(tool.gid, 4);
    assert.equal(tool.mtime.getTime(), mtime.getTime());
    assert.equal(tool.nlink, 2);
    assert.equal(
      execFileSync('python3', ['-c', 'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], "user.k").decode())', join(layer, 'tool')], {
        encoding: 'utf8',
      }),
      'v',
    );
    assert.equal(lstatSync(join(layer, 'out')).uid, 9);
    assert.equal(statSync(victim).mode & 0o7777, 0o600, 'the symlink target outside is not chmodded');
    assert.equal(statSync(victim).uid, 0);
  });

  const escapes: [string, (outside: string) => TarEntry[], RegExp][] = [
    ['an absolute name', (o) => [{ name: `${o}/pwned`, content: 'x' }], /absolute path/],
    ['a name with ..', () => [{ name: '../outside/pwned', content: 'x' }], /leaves the layer/],
    ['.. hidden in the middle', () => [{ name: 'a/../../outside/pwned', content: 'x' }], /leaves the layer/],
    [
      'a file through an absolute symlink',
      (o) => [
        { name: 'evil', type: 'symlink', linkname: o },
        { name: 'evil/pwned', content: 'x' },
      ],
      /passes through the symlink "evil"/,
    ],
    [
      'a file through a relative symlink',
      () => [
        { name: 'evil', type: 'symlink', linkname: '../outside' },
        { name: 'evil/pwned', content: 'x' },
      ],
      /passes through the symlink/,
    ],
    [
      'a directory through a symlink',
      (o) => [
        { name: 'evil', type: 'symlink', linkname: o },
        { name: 'evil/sub/', type: 'directory' },
      ],
      /passes through the symlink/,
    ],
    [
      'a whiteout through a symlink',
      (o) => [
        { name: 'evil', type: 'symlink', linkname: o },
        { name: 'evil/.wh.victim', content: '' },
      ],
      /passes through the symlink/,
    ],
    ['a hard link to an absolute target', (o) => [{ name: 'h', type: 'link', linkname: `${o}/victim` }], /absolute path/],
    ['a hard link to ../', () => [{ name: 'h', type: 'link', linkname: '../outside/victim' }], /leaves the layer/],
    ['a hard link to a name not in the layer', () => [{ name: 'h', type: 'link', linkname: 'no/such' }], /"no\/such" is not in the layer/],
    [
      'a hard link through a symlink',
      (o) => [
        { name: 'evil', type: 'symlink', linkname: o },
        { name: 'h', type: 'link', linkname: 'evil/victim' },
      ],
      /passes through the symlink/,
    ],
  ];
  for (const [what, make, error] of escapes) {
    test(`refuses ${what}, writing nothing outside the layer`, async () => {
      const { layer, outside } = dirs();
      execFileSync('sh', ['-c', `echo secret > ${outside}/victim`]);
      await assert.rejects(unpack(make(outside), layer), (err: Error) => {
        assert.match(err.message, /^layer L: entry ".*": /);
        assert.match(err.message, error);
        return true;
      });
      assert.deepEqual(readdirSync(outside), ['victim']);
      assert.equal(readFileSync(join(outside, 'victim'), 'utf8'), 'secret\n');
    });
  }

  test('a symlink may point anywhere: it is stored, never followed', async () => {
    const { layer, outside } = dirs();
    await unpack(
      [
        { name: 'etc/link', type: 'symlink', linkname: `${outside}/victim` },
        { name: 'etc/link', content: 'replaced' },
      ],
      layer,
    );
    assert.equal(
      readFileSync(join(layer, 'etc/link'), 'utf8'),
      'replaced',
      'a later entry replaces the symlink instead of writing through it',
    );
    assert.deepEqual(readdirSync(outside), []);
  });

  test('zstd is refused naming the media type when node:zlib has none', async (t) => {
    if (typeof ((await import('node:zlib')) as { createZstdDecompress?: unknown }).createZstdDecompress === 'function')
      return t.skip('this Node has zstd');
    const { layer } = dirs();
    await assert.rejects(
      unpackLayer(Readable.from([Buffer.alloc(10)]), 'zstd', 'application/vnd.oci.image.layer.v1.tar+zstd', layer, 'layer L'),
      /layer L: media type application\/vnd\.oci\.image\.layer\.v1\.tar\+zstd: zstd is not supported/,
    );
  });
});
