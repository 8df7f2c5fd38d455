import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Engine } from '../../src/condenser/engine.js';
import { REPO, testEnv } from '../helpers/droplet.js';
import { mountsUnder } from '../helpers/leaks.js';
import { RAIND, raindOk } from '../helpers/raind.js';

/* Slow (half a minute or more): the image is bootstrapped from the Debian mirror this machine's
 * apt uses. Without the mirror the test fails, saying so: it is not skipped. */

const SCRIPT = join(REPO, 'scripts', 'make-debian-image.sh');
const REF = 'raind/debian:bookworm';

let dir: string;
let root: string;
let mountDir: string | undefined;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'raind-debian-'));
  root = join(dir, 'root');
  mkdirSync(join(dir, 'tmp'));
});
after(() => {
  if (mountDir && mountsUnder(mountDir).length) new Engine({ root }).unmountImage(mountDir);
  rmSync(dir, { recursive: true, force: true });
});

function makeImage(...args: string[]) {
  const r = spawnSync('bash', [SCRIPT, '--root', root, ...args], {
    encoding: 'utf8',
    env: { ...testEnv(), RAIND, TMPDIR: join(dir, 'tmp') },
    timeout: 600_000,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

describe('scripts/make-debian-image.sh', () => {
  test('bootstraps bookworm with bash and procps into an image with CMD ["/bin/bash"], once', async () => {
    const r = makeImage();
    assert.equal(
      r.code,
      0,
      `make-debian-image.sh failed (${r.code ?? r.signal}): it needs the Debian mirror of /etc/apt/sources.list.d ` +
        `(does apt-get update work?) and mmdebstrap or debootstrap:\n${r.stderr}`,
    );
    const id = r.stdout.trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.match(r.stderr, /raind\/debian:bookworm [0-9a-f]{12} in [\d.]+ s: [\d.]+ MB unpacked, [\d.]+ MB compressed\n$/);
    assert.deepEqual(readdirSync(join(dir, 'tmp')), [], 'the temporary directory is removed');

    const [info] = JSON.parse(raindOk(root, ['image', 'inspect', REF]).stdout);
    assert.equal(info.Id, id);
    assert.deepEqual(info.RepoTags, [REF]);
    assert.deepEqual(info.Config.Cmd, ['/bin/bash']);
    assert.equal(info.Os, 'linux');

    /* a second run finds the image and makes nothing; --force makes it again */
    const again = makeImage();
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, '');
    assert.match(again.stderr, /raind\/debian:bookworm exists \(--force to make it again\)/);
    assert.equal(JSON.parse(raindOk(root, ['images', '--format', 'json']).stdout).length, 1);

    /* the image as a container would see it: an overlay of its layer */
    mountDir = join(dir, 'mnt');
    const engine = new Engine({ root });
    const { merged } = await engine.mountImage(REF, mountDir);
    try {
      for (const f of ['bin/bash', 'usr/bin/ps', 'etc/debian_version']) assert.ok(existsSync(join(merged, f)), `/${f} in the image`);
      const bash = spawnSync('chroot', [merged, '/bin/bash', '-c', 'echo "$BASH_VERSION"; cat /etc/debian_version'], { encoding: 'utf8' });
      assert.equal(bash.status, 0, bash.stderr);
      assert.match(bash.stdout, /^5\.2\.[^\n]*\n12\.\d+\n$/);
      /* ps -ef with a /proc of its own, in a mount and pid namespace that end with it */
      const ps = spawnSync(
        'unshare',
        ['--mount', '--pid', '--fork', `--mount-proc=${join(merged, 'proc')}`, 'chroot', merged, 'ps', '-ef'],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(ps.status, 0, ps.stderr);
      assert.match(ps.stdout, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\nroot\s+1\s+0\s.*ps -ef\n$/);
    } finally {
      engine.unmountImage(mountDir);
    }
    assert.deepEqual(mountsUnder(dir), [], 'no mount left');
    const findmnt = spawnSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' });
    assert.ok(!findmnt.stdout.split('\n').some((t) => t.startsWith(dir)), 'findmnt shows no mount under the test directory');
  });

  test("a mirror it cannot reach: one clear error with apt's reason, no image, no temporary files", () => {
    const other = join(dir, 'root-unreachable');
    const r = spawnSync('bash', [SCRIPT, '--root', other, 'unreachable/debian:1'], {
      encoding: 'utf8',
      env: { ...testEnv(), RAIND, TMPDIR: join(dir, 'tmp'), DEBIAN_MIRROR: 'http://127.0.0.1:9/debian' },
      timeout: 120_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /bootstrap of bookworm from http:\/\/127\.0\.0\.1:9\/debian failed \(is the mirror reachable/);
    assert.match(r.stderr, /Could not connect to 127\.0\.0\.1:9/);
    assert.equal(r.stdout, '');
    assert.deepEqual(JSON.parse(raindOk(other, ['images', '--format', 'json']).stdout), []);
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
  });
});
