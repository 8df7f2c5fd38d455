import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { makeRawTar, paxBlock, type TarEntry } from '../helpers/layer-tar.js';
import { raindOk } from '../helpers/raind.js';
import { TestRegistry } from '../helpers/registry.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hex = (d: string) => d.slice('sha256:'.length);

/* VFS_CAP_REVISION_2 with the effective flag, cap_net_raw permitted: what setcap cap_net_raw+ep writes */
const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex');
/** Stands for what GNU tar writes of a file given a capability with setcap. */
const GNU_TAR = Buffer.from('gnu tar');

/** usr/bin/arping with cap_net_raw+ep from setcap, archived by GNU tar with its xattrs,
 * without the end-of-archive blocks. */
function gnuTarWithCapability(work: string): Buffer {
  const bin = join(work, 'usr/bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'arping'), 'arping\n', { mode: 0o755 });
  execFileSync('setcap', ['cap_net_raw+ep', join(bin, 'arping')]);
  const tar = execFileSync(
    'tar',
    [
      '--format=posix',
      '--xattrs',
      '--xattrs-include=*',
      '--numeric-owner',
      '--owner=0',
      '--group=0',
      '--mtime=@0',
      '-C',
      work,
      '-cf',
      '-',
      'usr/bin/arping',
    ],
    { maxBuffer: 16 << 20 },
  );
  let end = tar.length;
  while (end >= 512 && tar.subarray(end - 512, end).every((b) => b === 0)) end -= 512;
  return tar.subarray(0, end);
}

const dir = (name: string, extra: Partial<TarEntry> = {}): TarEntry => ({ name, type: 'directory', ...extra });

/** Twelve layers, each taking something from the ones below: whiteouts of a file and of a
 * directory, an opaque directory, hard links, devices, setuid, a binary capability, symlinks. */
const LAYERS: (TarEntry | Buffer)[][] = [
  [
    dir('etc/'),
    { name: 'etc/hostname', content: 'base\n' },
    { name: 'etc/gone', content: 'hidden later\n' },
    dir('var/'),
    dir('var/lib/'),
    dir('var/lib/old/'),
    { name: 'var/lib/old/data', content: 'old\n' },
    dir('var/lib/old/sub/'),
    { name: 'var/lib/old/sub/more', content: 'more\n' },
    dir('opt/'),
    dir('opt/opq/', { mode: 0o750 }),
    { name: 'opt/opq/a.txt', content: 'a\n' },
    { name: 'opt/opq/b.txt', content: 'b\n' },
    dir('usr/'),
    dir('usr/bin/'),
    dir('tmp/', { mode: 0o1777 }),
  ],
  [
    dir('a/'),
    dir('a/b/'),
    dir('a/b/c/'),
    dir('a/b/c/d/'),
    dir('a/b/c/d/e/'),
    dir('a/b/c/d/e/f/'),
    dir('a/b/c/d/e/f/g/'),
    dir('a/b/c/d/e/f/g/h/', { uid: 12, gid: 34 }),
    { name: 'a/b/c/d/e/f/g/h/leaf', content: 'deep\n', mode: 0o600 },
  ],
  [{ name: 'etc/.wh.gone', content: '' }],
  [{ name: 'var/lib/.wh.old', content: '' }],
  [dir('opt/opq/', { mode: 0o755 }), { name: 'opt/opq/.wh..wh..opq', content: '' }, { name: 'opt/opq/new.txt', content: 'new\n' }],
  [
    { name: 'usr/bin/tool', content: '#!/bin/sh\necho tool\n', mode: 0o755 },
    { name: 'usr/bin/tool-hard', type: 'link', linkname: 'usr/bin/tool' },
    { name: 'usr/bin/tool-hard2', type: 'link', linkname: 'usr/bin/tool' },
  ],
  [
    dir('dev/'),
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/fifo', type: 'fifo', mode: 0o620, uid: 7, gid: 8 },
  ],
  [
    { name: 'usr/bin/su', content: 'su\n', mode: 0o4755 },
    { name: 'usr/bin/wall', content: 'wall\n', mode: 0o2755, gid: 5 },
  ],
  [
    paxBlock('x', [
      ['SCHILY.xattr.security.capability', CAP],
      ['SCHILY.xattr.user.bytes', Buffer.from([0xff, 0x00, 0x0a, 0x3d, 0xc3, 0x28])],
    ]),
    { name: 'usr/bin/ping', content: 'ping\n', mode: 0o755, uid: 0, gid: 0 },
    GNU_TAR,
  ],
  [
    { name: 'usr/bin/sh', type: 'symlink', linkname: 'tool' },
    { name: 'etc/tool', type: 'symlink', linkname: '/usr/bin/tool', uid: 3, gid: 4 },
    { name: 'etc/dangling', type: 'symlink', linkname: '../nowhere' },
  ],
  [
    dir('home/'),
    dir('home/user/', { uid: 1000, gid: 100, mode: 0o700 }),
    { name: 'home/user/.profile', content: 'export A=1\n', uid: 1000, gid: 100, mode: 0o640 },
  ],
  [{ name: 'etc/hostname', content: 'top layer\n', mode: 0o600 }, dir('var/lib/old/'), { name: 'var/lib/old/fresh', content: 'fresh\n' }],
];

let base: string;
let registry: TestRegistry;
let ref: string;
let manifestDigest: string;
let configDigest: string;
let diffIds: string[];
const mounts: string[] = [];
let podmanImageMounted = false;

const podmanArgs = () => [
  '--root',
  join(base, 'podman/root'),
  '--runroot',
  join(base, 'podman/run'),
  '--storage-driver',
  'overlay',
  '--events-backend',
  'none',
  '--cgroup-manager',
  'cgroupfs',
];
const podman = (args: string[]) =>
  execFileSync('podman', [...podmanArgs(), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });

before(async () => {
  base = mkdtempSync(join(tmpdir(), 'raind-podman-'));
  registry = new TestRegistry(join(base, 'registry'));
  await registry.start();
  const repo = 'test/layers';
  const blobs: { digest: string; size: number }[] = [];
  diffIds = [];
  const gnu = gnuTarWithCapability(join(base, 'gnu'));
  for (const layer of LAYERS) {
    const tar = await makeRawTar(layer.map((part) => (part === GNU_TAR ? gnu : part)));
    const gz = gzipSync(tar);
    diffIds.push(sha(tar));
    blobs.push({ digest: await registry.pushBlob(repo, gz), size: gz.length });
  }
  const config = Buffer.from(
    JSON.stringify({
      created: '2024-01-02T03:04:05Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/bin'], Cmd: ['/usr/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: LAYERS.map(() => ({ created_by: 'test' })),
    }),
  );
  configDigest = await registry.pushBlob(repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: blobs.map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...b })),
    }),
  );
  manifestDigest = await registry.pushManifest(repo, '12', 'application/vnd.oci.image.manifest.v1+json', manifest);
  ref = `${registry.host}/${repo}:12`;
});

after(async () => {
  for (const m of mounts.reverse()) spawnSync('umount', [m]);
  if (podmanImageMounted) spawnSync('podman', [...podmanArgs(), 'image', 'unmount', '--all', '--force']);
  if (base) {
    spawnSync('podman', [...podmanArgs(), 'rmi', '--all', '--force']);
    spawnSync('umount', ['-R', join(base, 'podman/root/overlay')]);
  }
  await registry?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

/** Every entry below `root`: type, mode, owner, size, link target, device, link count and
 * xattrs (values in hex), keyed by path; hard links named by the first path of their inode. */
function tree(root: string): Record<string, unknown> {
  const script = `
import os, stat, sys, json
root = sys.argv[1]
out = {}
first = {}
for d, dirs, files in os.walk(root):
    dirs.sort()
    for name in sorted(dirs + files):
        p = os.path.join(d, name)
        rel = os.path.relpath(p, root)
        st = os.lstat(p)
        e = {'type': stat.S_IFMT(st.st_mode), 'mode': oct(stat.S_IMODE(st.st_mode)), 'uid': st.st_uid, 'gid': st.st_gid}
        if not stat.S_ISDIR(st.st_mode):
            e['size'] = st.st_size
            e['nlink'] = st.st_nlink
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1:
                e['inode'] = first.setdefault(key, rel)
        if stat.S_ISLNK(st.st_mode):
            e['link'] = os.readlink(p)
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            e['rdev'] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
        e['xattrs'] = {n: os.getxattr(p, n, follow_symlinks=False).hex() for n in sorted(os.listxattr(p, follow_symlinks=False))}
        out[rel] = e
json.dump(out, sys.stdout, sort_keys=True)
`;
  return JSON.parse(execFileSync('python3', ['-c', script, root], { encoding: 'utf8', maxBuffer: 64 << 20 }));
}

describe('a twelve-layer image, raind against podman', () => {
  test('raind pull of twelve layers: the merged overlay of its layers equals podman image mount, entry by entry', () => {
    const root = join(base, 'raind');
    assert.equal(raindOk(root, ['pull', ref]).stdout.trim(), configDigest);

    const skopeo = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' }));
    assert.equal(skopeo.Digest, manifestDigest);
    const [info] = JSON.parse(raindOk(root, ['inspect', ref]).stdout);
    assert.deepEqual(info.RepoDigests, [`${registry.host}/test/layers@${skopeo.Digest}`]);
    assert.deepEqual(info.RootFS.Layers, diffIds);
    assert.equal(skopeo.Layers.length, 12);

    /* chain IDs: the first layer's diff ID, then sha256 of "<parent chain ID> <diff ID>" */
    const chains: string[] = [];
    for (const d of diffIds) chains.push(chains.length === 0 ? d : sha(`${chains[chains.length - 1]} ${d}`));
    const lowers = chains.map((c) => join(root, 'layers', hex(c))).reverse();
    const merged = join(base, 'merged');
    mkdirSync(merged);
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${lowers.join(':')}`, merged]);
    mounts.push(merged);

    podman(['pull', '--tls-verify=false', '--quiet', `docker://${ref}`]);
    podmanImageMounted = true;
    const podmanTree = join(podman(['image', 'mount', ref]).trim());

    const ours = tree(merged);
    const theirs = tree(podmanTree);
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort(), 'the same paths');
    for (const path of Object.keys(theirs)) assert.deepEqual(ours[path], theirs[path], path);

    /* what the layers were made to show, so that equal trees are not equally wrong */
    const at = (p: string) => ours[p] as Record<string, unknown> | undefined;
    assert.equal(at('etc/gone'), undefined, 'whited-out file');
    assert.equal(at('var/lib/old/data'), undefined, 'whited-out directory');
    assert.equal(at('var/lib/old/sub'), undefined, 'whited-out directory');
    assert.ok(at('var/lib/old/fresh'), 'a directory made again above its whiteout');
    assert.equal(at('opt/opq/a.txt'), undefined, 'opaque directory');
    assert.ok(at('opt/opq/new.txt'));
    const xattrs = (p: string) => (at(p)?.xattrs ?? {}) as Record<string, string>;
    assert.equal(xattrs('usr/bin/ping')['security.capability'], CAP.toString('hex'));
    assert.equal(xattrs('usr/bin/ping')['user.bytes'], 'ff000a3dc328');
    assert.equal(xattrs('usr/bin/arping')['security.capability'], CAP.toString('hex'), 'GNU tar after setcap cap_net_raw+ep');
    assert.equal(at('usr/bin/su')?.mode, '0o4755');
    assert.equal(at('usr/bin/wall')?.mode, '0o2755');
    assert.equal(at('usr/bin/tool-hard')?.nlink, 3);
    assert.equal(at('usr/bin/tool-hard2')?.inode, 'usr/bin/tool');
    assert.deepEqual(at('dev/null')?.rdev, [1, 3]);
    assert.equal(at('dev/fifo')?.type, 0o010000);
    assert.equal(at('etc/tool')?.link, '/usr/bin/tool');
    assert.equal(at('a/b/c/d/e/f/g/h/leaf')?.size, 5);
    assert.equal(at('etc/hostname')?.size, 'top layer\n'.length);
    for (const [path, e] of Object.entries(ours))
      for (const name of Object.keys((e as { xattrs: object }).xattrs))
        assert.ok(!name.startsWith('trusted.overlay.'), `${path}: ${name} shows through the mount`);
  });
});
