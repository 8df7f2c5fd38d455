import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { type ApiServer, serveForSuite } from '../helpers/api-server.js';
import { type Result, testEnv } from '../helpers/droplet.js';
import type { TestEngine } from '../helpers/engine.js';
import { RAIND } from '../helpers/raind.js';

describe('raind --host: the CLI as a client of raind serve', () => {
  let e: TestEngine;
  let api: ApiServer;
  const remote = (args: string[], env: NodeJS.ProcessEnv = {}): Result => {
    const r = spawnSync(RAIND, ['--host', `unix://${api.socket}`, ...args], {
      encoding: 'utf8',
      env: { ...testEnv(), ...env },
      timeout: 60_000,
    });
    return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  };
  const remoteOk = (args: string[]) => {
    const r = remote(args);
    assert.equal(r.code, 0, `raind --host ${args.join(' ')}: ${r.stderr}`);
    return r;
  };

  serveForSuite((engine, server) => {
    e = engine;
    api = server;
  });

  test('one store: docker run -d shows in raind ps, raind run -d in docker ps, and raind --host ps lists both', () => {
    const viaDocker = api.dockerOk(['run', '-d', '--pull', 'never', '--name', 'rem-docker', 'busybox:latest', 'sleep', '60']).stdout.trim();
    const viaRaind = e.ok(['run', '-d', '--pull', 'never', '--name', 'rem-local', 'busybox:latest', 'sleep', '60']).stdout.trim();
    assert.match(e.ok(['ps']).stdout, /rem-docker$/m);
    assert.match(api.dockerOk(['ps', '--format', '{{.Names}}']).stdout, /^rem-local$/m);
    const listed = remoteOk(['ps']).stdout;
    assert.match(listed, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/m);
    assert.match(listed, new RegExp(`^${viaDocker.slice(0, 12)}\\s+busybox:latest\\s+"sleep 60".*Up .*rem-docker$`, 'm'));
    assert.match(listed, new RegExp(`^${viaRaind.slice(0, 12)}\\s+busybox:latest.*rem-local$`, 'm'));
    const quiet = remoteOk(['ps', '-q']).stdout.trim().split('\n').sort();
    assert.deepEqual(quiet, [viaDocker.slice(0, 12), viaRaind.slice(0, 12)].sort());
    remoteOk(['rm', '-f', 'rem-docker', 'rem-local']);
    assert.equal(e.ok(['ps', '-aq']).stdout, '');
  });

  test('version, create, start, inspect, stop, ps -a, rm, run -d, and RAIND_HOST', () => {
    assert.match(remoteOk(['version']).stdout, /API version:\s+1\.43/);
    const id = remoteOk(['create', '--pull', 'never', '--name', 'rem-c', '-e', 'A=1', 'busybox:latest', 'sleep', '60']).stdout.trim();
    assert.match(id, /^[0-9a-z]{12}$/);
    assert.equal(JSON.parse(e.ok(['inspect', id]).stdout)[0].Config.Env.includes('A=1'), true);
    assert.equal(remoteOk(['start', 'rem-c']).stdout, 'rem-c\n');
    const inspected = JSON.parse(remoteOk(['inspect', 'rem-c']).stdout);
    assert.equal(inspected[0].Name, '/rem-c');
    assert.equal(inspected[0].State.Running, true);
    assert.equal(remoteOk(['stop', '-t', '1', 'rem-c']).stdout, 'rem-c\n');
    assert.match(remoteOk(['ps', '-a']).stdout, /Exited \(\d+\).*rem-c$/m);
    assert.equal(remoteOk(['ps']).stdout.trim().split('\n').length, 1, 'only the header');
    assert.equal(remoteOk(['rm', 'rem-c']).stdout, 'rem-c\n');
    const run = remote(['run', '-d', '--pull', 'never', '--name', 'rem-r', 'busybox:latest', 'sleep', '60'], {});
    assert.equal(run.code, 0, run.stderr);
    const byEnv = spawnSync(RAIND, ['ps', '--format', 'json'], {
      encoding: 'utf8',
      env: { ...testEnv(), RAIND_HOST: `unix://${api.socket}` },
    });
    assert.equal(byEnv.status, 1, 'ps --format is not a remote flag');
    const byEnvPs = spawnSync(RAIND, ['ps', '-q'], { encoding: 'utf8', env: { ...testEnv(), RAIND_HOST: `unix://${api.socket}` } });
    assert.equal(byEnvPs.stdout.trim(), run.stdout.trim().slice(0, 12));
    remoteOk(['rm', '-f', 'rem-r']);
  });

  test('images, inspect of an image, logs (stdout and stderr apart, --tail, -f), run in the foreground', async (t) => {
    /* the image, log and attach endpoints come with their own routes: skipped on a server without them */
    const routeMissing = (method: string, path: string) =>
      spawnSync('curl', ['-s', '-X', method, '--unix-socket', api.socket, `http://x/v1.43${path}`], { encoding: 'utf8' }).stdout.includes(
        'page not found',
      );
    if (
      routeMissing('GET', '/images/json') ||
      routeMissing('GET', '/containers/rem-none/logs') ||
      routeMissing('POST', '/containers/rem-none/attach')
    ) {
      t.skip('this server has no image, log or attach routes');
      return;
    }
    const images = remoteOk(['images']).stdout;
    assert.match(images, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/m);
    assert.match(images, /^busybox\s+latest\s+[0-9a-f]{12}\s/m);
    assert.equal(JSON.parse(remoteOk(['inspect', 'busybox:latest']).stdout)[0].RepoTags[0], 'busybox:latest');
    remoteOk(['run', '-d', '--pull', 'never', '--name', 'rem-logs', 'busybox:latest', 'sh', '-c', 'echo one; echo two >&2; echo three']);
    e.ok(['wait', 'rem-logs']);
    const logs = remoteOk(['logs', 'rem-logs']);
    assert.equal(logs.stdout, 'one\nthree\n');
    assert.equal(logs.stderr, 'two\n');
    /* stdout and stderr are two pipes: which of their last lines conmon logged last varies */
    const tail = remoteOk(['logs', '--tail', '1', 'rem-logs']);
    assert.match(tail.stdout + tail.stderr, /^(three|two)\n$/);
    remoteOk(['rm', 'rem-logs']);

    remoteOk([
      'run',
      '-d',
      '--pull',
      'never',
      '--name',
      'rem-follow',
      'busybox:latest',
      'sh',
      '-c',
      'for i in 1 2 3; do echo tick $i; sleep 0.2; done',
    ]);
    assert.equal(remoteOk(['logs', '-f', 'rem-follow']).stdout, 'tick 1\ntick 2\ntick 3\n');
    remoteOk(['rm', 'rem-follow']);

    const fg = remote(['run', '--rm', '--pull', 'never', 'busybox:latest', 'sh', '-c', 'seq 1 3000; echo to-err >&2; exit 4']);
    assert.equal(fg.code, 4, fg.stderr);
    assert.equal(fg.stdout.split('\n').length, 3001);
    assert.equal(fg.stderr, 'to-err\n');
    const missing = remote(['run', '--rm', '--pull', 'never', 'busybox:latest', 'no-such-command']);
    assert.equal(missing.code, 127, missing.stderr);
    assert.equal(e.ok(['ps', '-aq']).stdout, '');
  });

  test('errors: a missing container (the server says so), a command not served remotely, an engine that is not there', () => {
    const missing = remote(['start', 'rem-none']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such container: rem-none/i);
    const exec = remote(['exec', 'rem-none', 'true']);
    assert.equal(exec.code, 1);
    assert.equal(exec.stderr.trim().split('\n').length, 1);
    assert.match(exec.stderr, /^raind: exec: not available with --host/);
    const network = remote(['network', 'ls']);
    assert.match(network.stderr, /^raind: network ls: not available with --host/);
    const nowhere = spawnSync(RAIND, ['--host', `unix://${e.dir}/nothing.sock`, 'ps'], { encoding: 'utf8', env: testEnv() });
    assert.equal(nowhere.status, 125);
    assert.match(nowhere.stderr, /^raind: cannot reach the engine at unix:\/\/.*nothing\.sock: .*ENOENT/);
    const run = remote(['run', '-it', '--pull', 'never', 'busybox:latest', 'true']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^raind: run: -i and -t are not available with --host$/m);
    const bad = remote(['create', '--pull', 'never', 'busybox:latest']);
    assert.equal(bad.code, 0, 'the image has a command');
    remoteOk(['rm', bad.stdout.trim()]);
  });
});
