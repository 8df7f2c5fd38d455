import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containerProcessesUnder, describeProcesses, killContainerProcesses, mountsUnder } from '../helpers/leaks.js';
import { raind as raindIn } from '../helpers/raind.js';

const APPLETS = ['sh', 'cat', 'echo', 'ls', 'sleep', 'stat', 'readlink', 'test', 'true', 'rm'];

let dir: string;
let root: string;
let runRoot: string;
/** every container a test made, to check that none left a cgroup */
const seen = new Set<string>();

const raind = (...args: string[]) => raindIn(root, ['--runroot', runRoot, ...args]);
const ok = (...args: string[]) => {
  const r = raind(...args);
  if (r.code !== 0) throw new Error(`raind ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
};
const volumeDir = (name: string) => join(root, 'volumes', name);
const volumeNames = () =>
  ok('volume', 'ls', '-q')
    .split('\n')
    .filter((l) => l !== '');
const inspectContainer = (name: string) => JSON.parse(ok('container', 'inspect', name))[0];

/** A busybox-static root with an image's content at /data (owned by 1234:5678, mode 0750,
 * with a file, a symlink and a directory) and a symlink leading out of the root. */
function makeRootfs(into: string): void {
  mkdirSync(join(into, 'bin'), { recursive: true });
  writeFileSync(join(into, 'bin/busybox'), readFileSync('/bin/busybox'), { mode: 0o755 });
  for (const a of APPLETS) symlinkSync('busybox', join(into, 'bin', a));
  mkdirSync(join(into, 'tmp'), { mode: 0o1777 });
  mkdirSync(join(into, 'etc'));
  writeFileSync(join(into, 'etc/image-marker'), 'from the image\n');
  mkdirSync(join(into, 'data/sub'), { recursive: true });
  writeFileSync(join(into, 'data/hello'), 'hello from the image\n');
  writeFileSync(join(into, 'data/sub/deep'), 'deep\n', { mode: 0o600 });
  symlinkSync('hello', join(into, 'data/link'));
  chownSync(join(into, 'data'), 1234, 5678);
  chownSync(join(into, 'data/hello'), 1234, 5678);
  execFileSync('chmod', ['0750', join(into, 'data')]);
  /* resolved as the container sees it, this is the image's /etc, never the host's */
  symlinkSync('../../../../../../../etc', join(into, 'escape'));
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'raind-volumes-'));
  root = join(dir, 'root');
  runRoot = join(dir, 'run');
  const rootfs = join(dir, 'rootfs');
  makeRootfs(rootfs);
  const tar = join(dir, 'rootfs.tar');
  execFileSync('tar', ['--numeric-owner', '-cf', tar, '-C', rootfs, '.']);
  ok('import', '--change', 'CMD ["/bin/sh"]', tar, 'vol:plain');
  ok('import', '--change', 'CMD ["/bin/sh"]', '--change', 'VOLUME ["/data"]', tar, 'vol:declared');
});

after(() => {
  const ids = ok('ps', '-aq')
    .split('\n')
    .filter((l) => l !== '');
  for (const id of ids) seen.add(id);
  if (ids.length) raind('rm', '-f', ...ids);
  ok('volume', 'prune', '--all');
  const left: string[] = [];
  const procs = containerProcessesUnder(dir);
  if (procs.length) {
    left.push(`processes ${describeProcesses(procs)}`);
    killContainerProcesses(procs);
  }
  left.push(...mountsUnder(dir).map((m) => `mount ${m}`));
  for (const id of seen)
    for (const h of readdirSync('/sys/fs/cgroup'))
      if (existsSync(join('/sys/fs/cgroup', h, 'raind', id))) left.push(`cgroup ${join('/sys/fs/cgroup', h, 'raind', id)}`);
  const volumes = existsSync(join(root, 'volumes')) ? readdirSync(join(root, 'volumes')) : [];
  left.push(...volumes.map((v) => `volume ${v}`));
  if (mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(left, [], 'the suite left nothing behind');
});

describe('raind volumes', () => {
  test('a named volume is shared: one container writes, another one, running, reads', () => {
    const reader = ok('run', '-d', '--name', 'reader', '-v', 'shared:/v', 'vol:plain', 'sleep', '300').trim();
    seen.add(reader);
    const writer = raind('run', '--rm', '-v', 'shared:/v', 'vol:plain', 'sh', '-c', 'echo written by the writer > /v/msg');
    assert.equal(writer.code, 0, writer.stderr);
    assert.equal(ok('exec', 'reader', 'cat', '/v/msg'), 'written by the writer\n');
    assert.equal(readFileSync(join(volumeDir('shared'), '_data/msg'), 'utf8'), 'written by the writer\n');
    /* running: refused, naming the container */
    const refused = raind('volume', 'rm', 'shared');
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `raind volume rm: volume shared is in use by container reader (${reader})\n`);
    assert.ok(existsSync(volumeDir('shared')));
    ok('rm', '-f', 'reader');
    assert.equal(ok('volume', 'rm', 'shared'), 'shared\n');
    assert.ok(!existsSync(volumeDir('shared')));
  });

  test('first use of an empty volume copies the image content at the mount point, owners, modes and links kept', () => {
    const r = raind(
      'run',
      '--rm',
      '-v',
      'fresh:/data',
      'vol:plain',
      'sh',
      '-c',
      'cat /data/hello; stat -c "%u:%g %a" /data; readlink /data/link',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from the image\n1234:5678 750\nhello\n');
    const data = join(volumeDir('fresh'), '_data');
    const st = statSync(data);
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [1234, 5678, 0o750]);
    assert.equal(statSync(join(data, 'hello')).uid, 1234);
    assert.equal(statSync(join(data, 'sub/deep')).mode & 0o777, 0o600);
    assert.equal(readlinkSync(join(data, 'link')), 'hello');

    /* what the volume holds wins over the image from then on */
    ok('run', '--rm', '-v', 'fresh:/data', 'vol:plain', 'sh', '-c', 'echo changed > /data/hello; rm /data/link');
    const again = raind('run', '--rm', '-v', 'fresh:/data', 'vol:plain', 'sh', '-c', 'cat /data/hello; test -e /data/link || echo no link');
    assert.equal(again.stdout, 'changed\nno link\n', again.stderr);

    /* a volume with content of its own is not filled */
    ok('volume', 'create', 'prefilled');
    writeFileSync(join(volumeDir('prefilled'), '_data/own'), 'own\n');
    assert.equal(ok('run', '--rm', '-v', 'prefilled:/data', 'vol:plain', 'ls', '/data'), 'own\n');
    /* nor one mounted with nocopy */
    assert.equal(ok('run', '--rm', '-v', 'bare:/data:nocopy', 'vol:plain', 'ls', '-A', '/data'), '');
    assert.equal(ok('run', '--rm', '--mount', 'type=volume,src=bare2,dst=/data,volume-nocopy', 'vol:plain', 'ls', '-A', '/data'), '');
    ok('volume', 'rm', 'fresh', 'prefilled', 'bare', 'bare2');
  });

  test('copy-up resolves the mount point inside the container root: a symlink cannot lead it to the host', () => {
    const id = ok('create', '-v', 'escaped:/escape', 'vol:plain', 'true').trim();
    seen.add(id);
    const data = join(volumeDir('escaped'), '_data');
    assert.deepEqual(readdirSync(data), ['image-marker'], "the image's /etc, not the host's");
    ok('rm', id);
    ok('volume', 'rm', 'escaped');
  });

  test('rm -v removes the anonymous volumes (-v /path and the image VOLUMEs), never a named one', () => {
    const id = ok('create', '--name', 'anon', '-v', '/scratch', '-v', 'kept:/kept', 'vol:declared', 'true').trim();
    seen.add(id);
    const mounts: { Type: string; Name: string; Source: string; Destination: string; Driver: string }[] = inspectContainer('anon').Mounts;
    const byTarget = Object.fromEntries(mounts.map((m) => [m.Destination, m]));
    assert.deepEqual(Object.keys(byTarget).sort(), ['/data', '/kept', '/scratch']);
    assert.equal(byTarget['/kept']?.Name, 'kept');
    const anonymous = [byTarget['/data']?.Name ?? '', byTarget['/scratch']?.Name ?? ''];
    for (const name of anonymous) {
      assert.match(name, /^[0-9a-f]{64}$/);
      const [info] = JSON.parse(ok('volume', 'inspect', name));
      assert.deepEqual(info.Labels, { 'com.docker.volume.anonymous': '' });
      assert.equal(byTarget[name === anonymous[0] ? '/data' : '/scratch']?.Source, info.Mountpoint);
    }
    /* the image's VOLUME got its content */
    assert.equal(readFileSync(join(volumeDir(anonymous[0] ?? ''), '_data/hello'), 'utf8'), 'hello from the image\n');
    assert.deepEqual(volumeNames().sort(), [...anonymous, 'kept'].sort());
    /* a restart mounts the same volumes */
    ok('start', 'anon');
    assert.equal(ok('wait', 'anon'), '0\n');
    assert.deepEqual(
      inspectContainer('anon')
        .Mounts.map((m: { Name: string }) => m.Name)
        .sort(),
      [...anonymous, 'kept'].sort(),
    );
    assert.equal(ok('rm', '-v', 'anon'), 'anon\n');
    assert.deepEqual(volumeNames(), ['kept']);

    /* --rm takes them too */
    ok('run', '--rm', '-v', '/scratch', 'vol:declared', 'true');
    assert.deepEqual(volumeNames(), ['kept']);
    ok('volume', 'rm', 'kept');
  });

  test('prune: unused anonymous volumes; --all: unused named ones too; a used one never', () => {
    const holder = ok('create', '--name', 'holder', '-v', 'busy:/data', 'vol:plain', 'true').trim();
    seen.add(holder);
    const leftover = ok('create', '-v', '/scratch', 'vol:plain', 'true').trim();
    seen.add(leftover);
    const anonymous = inspectContainer(leftover).Mounts[0].Name;
    ok('rm', leftover);
    ok('volume', 'create', 'idle');
    assert.deepEqual(volumeNames().sort(), [anonymous, 'busy', 'idle'].sort());

    /* a created container, never started, uses its volume too */
    const refused = raind('volume', 'rm', 'busy');
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `raind volume rm: volume busy is in use by container holder (${holder})\n`);

    assert.match(ok('volume', 'prune'), new RegExp(`^Deleted Volumes:\\n${anonymous}\\n\\nTotal reclaimed space: \\d`));
    assert.deepEqual(volumeNames().sort(), ['busy', 'idle']);
    assert.match(ok('volume', 'prune', '-a', '-f'), /^Deleted Volumes:\nidle\n\nTotal reclaimed space: /);
    assert.deepEqual(volumeNames(), ['busy']);
    assert.equal(ok('volume', 'prune', '-a'), 'Total reclaimed space: 0B\n');
    ok('rm', 'holder');
    ok('volume', 'rm', 'busy');
  });

  test('create, ls and inspect print what docker prints', () => {
    assert.equal(ok('volume', 'create', '--label', 'team=web', '--label', 'flag', 'shapes'), 'shapes\n');
    assert.equal(ok('volume', 'create', 'shapes'), 'shapes\n', 'an existing name is that volume');
    const generated = ok('volume', 'create').trim();
    assert.match(generated, /^[0-9a-f]{64}$/);

    const [info, ...more] = JSON.parse(ok('volume', 'inspect', 'shapes'));
    assert.equal(more.length, 0);
    assert.deepEqual(Object.keys(info), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    assert.match(info.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(
      { ...info, CreatedAt: '' },
      {
        CreatedAt: '',
        Driver: 'local',
        Labels: { team: 'web', flag: '' },
        Mountpoint: join(volumeDir('shapes'), '_data'),
        Name: 'shapes',
        Options: null,
        Scope: 'local',
      },
    );
    assert.equal(JSON.parse(ok('volume', 'inspect', generated))[0].Labels, null);
    const missing = raind('volume', 'inspect', 'shapes', 'nonesuch');
    assert.equal(missing.code, 1);
    assert.equal(JSON.parse(missing.stdout).length, 1);
    assert.equal(missing.stderr, 'raind volume inspect: no such volume: nonesuch\n');

    const rows = ok('volume', 'ls').trimEnd().split('\n');
    assert.match(rows[0] ?? '', /^DRIVER +VOLUME NAME$/);
    assert.deepEqual(
      rows.slice(1).map((r) => r.split(/ +/)),
      [
        ['local', generated],
        ['local', 'shapes'],
      ],
    );
    const json = ok('volume', 'ls', '--format', 'json')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(json[1], {
      Driver: 'local',
      Labels: 'team=web,flag=',
      Mountpoint: join(volumeDir('shapes'), '_data'),
      Name: 'shapes',
      Scope: 'local',
    });
    assert.equal(ok('volume', 'ls', '-q', '--filter', 'name=hap'), 'shapes\n');
    assert.equal(ok('volume', 'ls', '-q', '--filter', 'label=team=web'), 'shapes\n');
    assert.equal(ok('volume', 'ls', '-q', '--filter', 'label=flag', '--filter', 'dangling=true'), 'shapes\n');
    assert.equal(ok('volume', 'ls', '-q', '--filter', 'label=team=db'), '');
    const user = ok('create', '-v', 'shapes:/data', 'vol:plain', 'true').trim();
    seen.add(user);
    assert.equal(ok('volume', 'ls', '-q', '--filter', 'dangling=false'), 'shapes\n');
    ok('rm', user);

    const bad = raind('volume', 'create', 'x');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^raind: invalid volume name "x": use \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]\+\n$/);
    assert.match(raind('volume', 'ls', '--filter', 'colour=red').stderr, /unknown filter "colour"/);
    const gone = raind('volume', 'rm', 'nonesuch');
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, 'raind volume rm: no such volume: nonesuch\n');
    assert.equal(raind('volume', 'rm', '-f', 'nonesuch').code, 0);
    ok('volume', 'rm', 'shapes', generated);
  });
});

describe('bind mounts', () => {
  test(':ro is enforced: a write inside fails and the host directory is unchanged', () => {
    const host = join(dir, 'bind-ro');
    mkdirSync(host);
    writeFileSync(join(host, 'readme'), 'host file\n');
    const r = raind('run', '--rm', '-v', `${host}:/ro:ro`, 'vol:plain', 'sh', '-c', 'cat /ro/readme; echo x > /ro/new');
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, 'host file\n');
    assert.match(r.stderr, /Read-only file system/);
    assert.deepEqual(readdirSync(host), ['readme']);
    const rw = raind('run', '--rm', '-v', `${host}:/rw`, 'vol:plain', 'sh', '-c', 'echo x > /rw/new');
    assert.equal(rw.code, 0, rw.stderr);
    assert.deepEqual(readdirSync(host).sort(), ['new', 'readme']);
  });

  test('a missing bind source is refused: one line, exit 125, nothing left (no container, mount, name or volume)', () => {
    const before = readdirSync(join(root, 'containers'));
    const missing = join(dir, 'no-such-dir');
    const r = raind('run', '--name', 'unbound', '-v', 'made-first:/a', '-v', `${missing}:/b`, 'vol:plain', 'true');
    assert.equal(r.code, 125);
    assert.equal(r.stderr, `raind: bind source path does not exist: ${missing}\n`);
    assert.equal(ok('ps', '-aq'), '');
    /* a --rm container of an earlier test may still be going away: only new ones count */
    assert.deepEqual(
      readdirSync(join(root, 'containers')).filter((d) => !before.includes(d)),
      [],
    );
    assert.deepEqual(mountsUnder(root), []);
    assert.deepEqual(volumeNames(), [], 'the volume this create made went with it');
    assert.ok(!existsSync(join(root, 'names', 'unbound')));
  });
});
