import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mountsUnder } from '../helpers/leaks.js';
import { TestStore } from '../helpers/raind-store.js';

let store: TestStore;
let work: string;
const hostPasswd = () => createHash('sha256').update(readFileSync('/etc/passwd')).digest('hex');
let passwdBefore: string;
/* a name no host has in /etc: a copy that escaped would leave it there */
const ESCAPE = `raind-cp-escape-${process.pid}`;

before(() => {
  passwdBefore = hostPasswd();
  store = new TestStore('raind-cp-', {
    'data/f': 'hi\n',
    'data/sub/g': 'deep\n',
    'data/pw': { link: '/etc/passwd' },
    'data/up': { link: '../../../../etc' },
  });
  work = join(store.dir, 'work');
  mkdirSync(work);
  store.ok(['run', '-d', '--name', 'cpc', 'busybox:test', 'sleep', '1000']);
});

after(() => {
  const left = store.cleanup();
  assert.deepEqual(left, [], `left behind: ${left.join(', ')}`);
  assert.equal(existsSync(join('/etc', ESCAPE)), false);
  assert.equal(hostPasswd(), passwdBefore, "the host's /etc/passwd changed");
});

const inContainer = (...cmd: string[]) => store.ok(['exec', 'cpc', ...cmd]).stdout;

describe('raind cp from a container', () => {
  test('a file to a new name, and into an existing directory', () => {
    store.ok(['cp', 'cpc:/data/f', join(work, 'f1')]);
    assert.equal(readFileSync(join(work, 'f1'), 'utf8'), 'hi\n');
    mkdirSync(join(work, 'into'));
    store.ok(['cp', 'cpc:/data/f', join(work, 'into')]);
    assert.equal(readFileSync(join(work, 'into', 'f'), 'utf8'), 'hi\n');
  });

  test('a directory: as the new name, inside an existing one, and its contents with /.', () => {
    store.ok(['cp', 'cpc:/data', join(work, 'd1')]);
    assert.equal(readFileSync(join(work, 'd1/sub/g'), 'utf8'), 'deep\n');
    assert.equal(readlinkSync(join(work, 'd1/pw')), '/etc/passwd');
    mkdirSync(join(work, 'd2'));
    store.ok(['cp', 'cpc:/data', join(work, 'd2')]);
    assert.equal(readFileSync(join(work, 'd2/data/f'), 'utf8'), 'hi\n');
    mkdirSync(join(work, 'd3'));
    store.ok(['cp', 'cpc:/data/.', join(work, 'd3')]);
    assert.equal(readFileSync(join(work, 'd3/f'), 'utf8'), 'hi\n');
  });

  test('the whole root, from /', () => {
    store.ok(['cp', 'cpc:/', join(work, 'whole')]);
    assert.equal(readFileSync(join(work, 'whole/data/sub/g'), 'utf8'), 'deep\n');
    assert.equal(readlinkSync(join(work, 'whole/bin/sh')), 'busybox');
  });

  test("a symlink to /etc/passwd is copied as itself, and with -L it is the container's file", () => {
    store.ok(['cp', 'cpc:/data/pw', join(work, 'pw')]);
    assert.equal(lstatSync(join(work, 'pw')).isSymbolicLink(), true);
    store.ok(['cp', '-L', 'cpc:/data/pw', join(work, 'pw-followed')]);
    assert.equal(readFileSync(join(work, 'pw-followed'), 'utf8'), 'root:x:0:0:container root:/root:/bin/sh\n');
  });

  test('a path through ../../../../etc stays in the container root', () => {
    store.ok(['cp', 'cpc:/data/up/passwd', join(work, 'up-passwd')]);
    assert.equal(readFileSync(join(work, 'up-passwd'), 'utf8'), 'root:x:0:0:container root:/root:/bin/sh\n');
    store.ok(['cp', '-L', 'cpc:/data/up', join(work, 'up-dir')]);
    assert.equal(readFileSync(join(work, 'up-dir/passwd'), 'utf8'), 'root:x:0:0:container root:/root:/bin/sh\n');
    assert.equal(existsSync(join(work, 'up-dir/shadow')), false, "the host's /etc was copied");
  });

  test('to - writes a tar named after the source', () => {
    const tar = store.ok(['cp', 'cpc:/data', '-']).stdoutBuffer;
    const names = execFileSync('tar', ['-t'], { input: tar, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    assert.deepEqual(names, ['data/', 'data/f', 'data/pw', 'data/sub/', 'data/sub/g', 'data/up']);
  });

  test('a missing source is an error and writes nothing', () => {
    const r = store.run(['cp', 'cpc:/nothing-here', join(work, 'none')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no such file or directory/);
    assert.equal(existsSync(join(work, 'none')), false);
  });
});

describe('raind cp into a container', () => {
  test('a file and a directory, owned by root unless -a keeps the owner', () => {
    writeFileSync(join(work, 'h1'), 'from the host\n');
    chownSync(join(work, 'h1'), 1234, 1234);
    store.ok(['cp', join(work, 'h1'), 'cpc:/tmp/h1']);
    assert.equal(inContainer('cat', '/tmp/h1'), 'from the host\n');
    assert.equal(inContainer('stat', '-c', '%u:%g', '/tmp/h1').trim(), '0:0');
    store.ok(['cp', '-a', join(work, 'h1'), 'cpc:/tmp/h1-kept']);
    assert.equal(inContainer('stat', '-c', '%u:%g', '/tmp/h1-kept').trim(), '1234:1234');
    mkdirSync(join(work, 'hd/inner'), { recursive: true });
    writeFileSync(join(work, 'hd/inner/x'), 'x\n');
    store.ok(['cp', join(work, 'hd'), 'cpc:/tmp']);
    assert.equal(inContainer('cat', '/tmp/hd/inner/x'), 'x\n');
  });

  test("through a symlink to /etc/passwd or ../../../../etc it writes the container's /etc, never the host's", () => {
    writeFileSync(join(work, 'evil'), 'replaced\n');
    store.ok(['cp', join(work, 'evil'), 'cpc:/data/pw']);
    assert.equal(inContainer('cat', '/etc/passwd'), 'replaced\n');
    writeFileSync(join(work, ESCAPE), 'escaped?\n');
    store.ok(['cp', join(work, ESCAPE), 'cpc:/data/up/']);
    assert.equal(inContainer('cat', `/etc/${ESCAPE}`), 'escaped?\n');
    assert.equal(existsSync(join('/etc', ESCAPE)), false);
    assert.equal(hostPasswd(), passwdBefore);
  });

  test('a tar on stdin whose entries pass through a symlink stays in the container', () => {
    const src = join(work, 'tarsrc');
    mkdirSync(join(src, 'link'), { recursive: true });
    writeFileSync(join(src, 'link', ESCAPE), 'via a link\n');
    /* an archive that makes link -> /etc, then writes link/ESCAPE through it */
    const first = execFileSync('tar', ['-C', src, '-c', `link/${ESCAPE}`]);
    execFileSync('rm', ['-r', join(src, 'link')]);
    execFileSync('ln', ['-s', '/etc', join(src, 'link')]);
    const second = execFileSync('tar', ['-C', src, '-c', 'link']);
    const tar = Buffer.concat([second.subarray(0, 512), first]);
    store.ok(['cp', '-', 'cpc:/tmp'], { input: tar });
    assert.equal(inContainer('readlink', '/tmp/link'), '/etc\n');
    assert.equal(inContainer('cat', `/etc/${ESCAPE}`), 'via a link\n');
    assert.equal(existsSync(join('/etc', ESCAPE)), false);
  });

  test('a container swapping a directory for a symlink to ../../../../etc during the copies cannot lead them out', () => {
    store.ok([
      'run',
      '-d',
      '--name',
      'racer',
      'busybox:test',
      'sh',
      '-c',
      'while :; do rm -rf /race; mkdir /race; rm -rf /race; ln -s ../../../../etc /race; done',
    ]);
    writeFileSync(join(work, 'race-src'), 'raced\n');
    for (let i = 0; i < 20; i++) {
      /* each copy lands in /race (a directory then) or in the container's /etc, or fails */
      store.run(['cp', join(work, 'race-src'), `racer:/race/${ESCAPE}`]);
      store.run(['cp', 'racer:/race/passwd', join(work, `race-out-${i}`)]);
      assert.equal(existsSync(join('/etc', ESCAPE)), false, "a copy into the container wrote the host's /etc");
      if (existsSync(join(work, `race-out-${i}`)))
        assert.equal(readFileSync(join(work, `race-out-${i}`), 'utf8'), 'root:x:0:0:container root:/root:/bin/sh\n');
    }
    store.ok(['rm', '-f', 'racer']);
  });

  test('a directory onto a file is refused', () => {
    const r = store.run(['cp', join(work, 'hd'), 'cpc:/data/f']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot copy a directory to a file/);
  });
});

describe("raind cp and a container's volumes and binds", () => {
  test('a file copied into a volume and a bind is in them, and comes back out, running or stopped', () => {
    const bind = join(store.dir, 'bind');
    mkdirSync(bind);
    store.ok([
      'run',
      '-d',
      '--name',
      'cpv',
      '-v',
      'cpvol:/vol',
      '-v',
      `${bind}:/bound`,
      '-v',
      `${bind}:/robound:ro`,
      'busybox:test',
      'sleep',
      '1000',
    ]);
    try {
      writeFileSync(join(work, 'into-vol'), 'in the volume\n');
      store.ok(['cp', join(work, 'into-vol'), 'cpv:/vol/f']);
      store.ok(['cp', join(work, 'into-vol'), 'cpv:/bound/f']);
      assert.equal(store.ok(['exec', 'cpv', 'cat', '/vol/f']).stdout, 'in the volume\n');
      assert.equal(readFileSync(join(bind, 'f'), 'utf8'), 'in the volume\n');
      store.ok(['exec', 'cpv', 'sh', '-c', 'echo made inside > /vol/g']);
      store.ok(['cp', 'cpv:/vol/g', join(work, 'from-vol')]);
      assert.equal(readFileSync(join(work, 'from-vol'), 'utf8'), 'made inside\n');
      /* stopped: the volume is mounted for the copy, and only for it */
      store.ok(['stop', '-t', '0', 'cpv']);
      store.ok(['cp', join(work, 'into-vol'), 'cpv:/vol/stopped']);
      store.ok(['cp', 'cpv:/vol/g', join(work, 'from-stopped')]);
      assert.equal(readFileSync(join(work, 'from-stopped'), 'utf8'), 'made inside\n');
      assert.deepEqual(
        mountsUnder(store.dir).filter((m) => /\/merged\/(vol|bound|robound)$/.test(m)),
        [],
      );
      const refused = store.run(['cp', join(work, 'into-vol'), 'cpv:/robound/no']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /read-only/);
      assert.equal(existsSync(join(bind, 'no')), false);
      store.ok(['start', 'cpv']);
      assert.equal(store.ok(['exec', 'cpv', 'cat', '/vol/stopped']).stdout, 'in the volume\n');
    } finally {
      store.ok(['rm', '-f', '-v', 'cpv']);
      store.run(['volume', 'rm', 'cpvol']);
    }
  });
});

describe('raind cp and export with a stopped container', () => {
  test('the root is mounted for the copy and unmounted after', async () => {
    store.ok(['exec', 'cpc', 'sh', '-c', 'echo written > /written']);
    store.ok(['stop', '-t', '0', 'cpc']);
    const id = store.ok(['inspect', 'cpc']).stdout;
    const merged = join(store.root, 'containers', JSON.parse(id)[0].Id, 'merged');
    /* conmon's cleanup unmounts the root once the container has exited */
    while (mountsUnder(merged).length > 0) await new Promise((r) => setTimeout(r, 50));
    store.ok(['cp', 'cpc:/written', join(work, 'written')]);
    assert.equal(readFileSync(join(work, 'written'), 'utf8'), 'written\n');
    store.ok(['cp', join(work, 'h1'), 'cpc:/h1']);
    assert.deepEqual(mountsUnder(merged), []);
    const tarFile = join(work, 'export.tar');
    store.ok(['export', '-o', tarFile, 'cpc']);
    assert.deepEqual(mountsUnder(merged), []);
    const names = execFileSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).split('\n');
    for (const n of ['bin/busybox', 'bin/sh', 'etc/passwd', 'data/sub/g', 'written', 'h1'])
      assert.ok(names.includes(n), `${n} in ${names}`);
    assert.equal(execFileSync('tar', ['-xOf', tarFile, 'written'], { encoding: 'utf8' }), 'written\n');
    assert.ok(statSync(tarFile).size > 0);
    const streamed = store.ok(['export', 'cpc']).stdoutBuffer;
    assert.ok(execFileSync('tar', ['-t'], { input: streamed, encoding: 'utf8' }).split('\n').includes('data/pw'));
  });

  test('an unknown container is an error', () => {
    const r = store.run(['cp', 'nope:/x', join(work, 'x')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no such container/);
    assert.notEqual(store.run(['export', 'nope']).code, 0);
  });
});
