import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type ApiServer, serveForSuite } from '../helpers/api-server.js';
import type { TestEngine } from '../helpers/engine.js';

/** A raw request through the server's socket: status line, headers and body, as curl shows them. */
function curl(server: ApiServer, method: string, path: string, body?: string): { status: number; headers: string; body: string } {
  const args = ['-s', '-i', '--unix-socket', server.socket, '-X', method, `http://raind${path}`];
  if (body !== undefined) args.push('-H', 'Content-Type: application/json', '-H', 'Expect:', '--data-binary', '@-');
  const r = spawnSync('curl', args, { encoding: 'utf8', input: body ?? '', timeout: 30_000 });
  const text = r.stdout;
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), headers: head, body: split < 0 ? '' : text.slice(split + 4) };
}

describe('raind serve: the docker CLI drives the container lifecycle', () => {
  let e: TestEngine;
  let api: ApiServer;
  serveForSuite((engine, server) => {
    e = engine;
    api = server;
  }, 'raind-api-ctr-');

  test('the socket is 0660; /_ping and /version tell the API version the CLI drops to', () => {
    assert.equal(statSync(api.socket).mode & 0o777, 0o660);
    const ping = curl(api, 'GET', '/_ping');
    assert.equal(ping.status, 200);
    assert.equal(ping.body, 'OK');
    assert.match(ping.headers, /^Api-Version: 1\.43\r?$/im);
    assert.match(api.dockerOk(['version']).stdout, /API version:\s+1\.43 \(downgraded from/);
    const tooNew = curl(api, 'GET', '/v1.99/containers/json');
    assert.equal(tooNew.status, 400);
    assert.match(JSON.parse(tooNew.body).message, /client version 1\.99 is too new/);
    assert.equal(curl(api, 'GET', '/v1.12/containers/json').status, 400);
    assert.equal(curl(api, 'GET', '/v1.41/containers/json').status, 200);
  });

  test('a container made through the API is in raind ps, and one made by raind is in docker ps', () => {
    const viaApi = api.dockerOk(['run', '-d', '--pull', 'never', '--name', 'from-docker', 'busybox', 'sleep', '60']).stdout.trim();
    const viaCli = e.ok(['run', '-d', '--name', 'from-raind', 'busybox:latest', 'sleep', '60']).stdout.trim();
    assert.match(e.ok(['ps']).stdout, /from-docker/);
    const ps = api.dockerOk(['ps', '--format', '{{.ID}} {{.Names}} {{.Status}}']).stdout;
    assert.match(ps, new RegExp(`^${viaCli} from-raind Up`, 'm'));
    assert.match(ps, new RegExp(`^${viaApi} from-docker Up`, 'm'));
    const inspect = JSON.parse(api.dockerOk(['inspect', 'from-docker']).stdout)[0];
    assert.equal(inspect.Name, '/from-docker');
    assert.equal(inspect.State.Running, true);
    assert.deepEqual(inspect.Config.Cmd, ['sleep', '60']);
    api.dockerOk(['rm', '-f', 'from-docker', 'from-raind']);
    assert.equal(e.ok(['ps', '-aq']).stdout, '');
  });

  test('stop, start, restart, kill, pause, unpause, rename, top and wait', () => {
    api.dockerOk([
      'create',
      '--pull',
      'never',
      '--name',
      'life',
      '-e',
      'A=1',
      '-l',
      'role=test',
      'busybox',
      'sh',
      '-c',
      'trap "exit 7" TERM; while :; do sleep 0.1; done',
    ]);
    assert.equal(api.dockerOk(['inspect', '-f', '{{.State.Status}}', 'life']).stdout.trim(), 'created');
    api.dockerOk(['start', 'life']);
    assert.match(api.dockerOk(['top', 'life']).stdout, /PID[\s\S]*sh -c trap/);
    api.dockerOk(['pause', 'life']);
    assert.equal(api.dockerOk(['inspect', '-f', '{{.State.Status}}', 'life']).stdout.trim(), 'paused');
    api.dockerOk(['unpause', 'life']);
    api.dockerOk(['stop', 'life']);
    assert.equal(api.dockerOk(['inspect', '-f', '{{.State.ExitCode}}', 'life']).stdout.trim(), '7');
    /* stop of a stopped container is no error, as docker (304) */
    api.dockerOk(['stop', 'life']);
    api.dockerOk(['restart', '-t', '1', 'life']);
    assert.equal(api.dockerOk(['inspect', '-f', '{{.State.Running}} {{.RestartCount}}', 'life']).stdout.trim().split(' ')[0], 'true');
    api.dockerOk(['rename', 'life', 'life2']);
    assert.match(api.dockerOk(['ps', '--filter', 'label=role=test', '--format', '{{.Names}}']).stdout, /^life2$/m);
    api.dockerOk(['kill', '-s', 'TERM', 'life2']);
    assert.equal(api.dockerOk(['wait', 'life2']).stdout.trim(), '7');
    assert.match(api.dockerOk(['ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}}']).stdout, /^life2$/m);
    assert.equal(api.docker(['ps', '--filter', 'status=exited', '--format', '{{.Names}}']).stdout.includes('life2'), true);
    api.dockerOk(['rm', 'life2']);
  });

  test('errors as docker gives them: 404, 409, 400, and a kill of a stopped container', () => {
    const missing = api.docker(['container', 'inspect', 'no-such-ctr']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such container: no-such-ctr/i);
    assert.equal(curl(api, 'POST', '/containers/no-such-ctr/start').status, 404);
    api.dockerOk(['run', '-d', '--pull', 'never', '--name', 'busy', 'busybox', 'sleep', '60']);
    const rm = api.docker(['rm', 'busy']);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /busy/);
    assert.equal(curl(api, 'DELETE', '/containers/busy').status, 409);
    api.dockerOk(['rm', '-f', 'busy']);
    api.dockerOk(['create', '--pull', 'never', '--name', 'idle', 'busybox', 'true']);
    assert.equal(curl(api, 'POST', '/containers/idle/kill').status, 409);
    api.dockerOk(['rm', 'idle']);
    const bad = curl(api, 'POST', '/containers/create', '{"Image": "busybox", "Cmd": "true", ');
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message, /malformed JSON/);
    const wrongType = curl(api, 'POST', '/containers/create', '{"Image": "busybox", "Env": [1]}');
    assert.equal(wrongType.status, 400);
    assert.match(JSON.parse(wrongType.body).message, /^Env: /);
    const hostType = curl(api, 'POST', '/containers/create', '{"Image": "busybox", "HostConfig": {"Memory": "lots"}}');
    assert.equal(hostType.status, 400);
    assert.match(JSON.parse(hostType.body).message, /^HostConfig\.Memory: /);
    const noImage = curl(api, 'POST', '/containers/create', '{"Image": "never-made:1"}');
    assert.equal(noImage.status, 404);
    const huge = curl(api, 'POST', '/containers/create', `{"Image": "busybox", "Env": ["${'x'.repeat(2 << 20)}"]}`);
    assert.equal(huge.status, 400);
    assert.equal(curl(api, 'GET', '/no/such/path').status, 404);
    assert.equal(curl(api, 'PUT', '/containers/json').status, 405);
    assert.equal(e.ok(['ps', '-aq']).stdout, '', 'no request above left a container');
  });

  test('create takes the CLI flags docker sends: ports, mounts, limits, restart policy, auto-remove', () => {
    const id = api
      .dockerOk([
        'create',
        '--pull',
        'never',
        '--name',
        'flags',
        '-m',
        '64m',
        '--pids-limit',
        '50',
        '--restart',
        'on-failure:2',
        '-w',
        '/tmp',
        '-u',
        '0:0',
        '--tmpfs',
        '/scratch',
        'busybox',
        'true',
      ])
      .stdout.trim();
    const c = JSON.parse(api.dockerOk(['inspect', id]).stdout)[0];
    assert.equal(c.HostConfig.Memory, 64 << 20);
    assert.equal(c.HostConfig.PidsLimit, 50);
    assert.deepEqual(c.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
    assert.equal(c.Config.WorkingDir, '/tmp');
    assert.ok(Object.hasOwn(c.HostConfig.Tmpfs, '/scratch'));
    api.dockerOk(['rm', id]);
    const auto = api.dockerOk(['run', '-d', '--rm', '--pull', 'never', 'busybox', 'true']).stdout.trim();
    assert.equal(api.docker(['wait', auto]).code === 0 || api.docker(['inspect', auto]).code !== 0, true);
  });

  test("exec --privileged has every capability, a plain exec the container's", () => {
    api.dockerOk(['run', '-d', '--pull', 'never', '--name', 'caps', 'busybox', 'sleep', '60']);
    const capEff = (args: string[]) =>
      /CapEff:\s*([0-9a-f]+)/.exec(api.dockerOk(['exec', ...args, 'caps', 'cat', '/proc/self/status']).stdout)?.[1];
    const host = /CapBnd:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    assert.equal(capEff(['--privileged']), host);
    assert.notEqual(capEff([]), host);
    const cli = /CapEff:\s*([0-9a-f]+)/.exec(e.ok(['exec', '--privileged', 'caps', 'cat', '/proc/self/status']).stdout)?.[1];
    assert.equal(cli, host);
    api.dockerOk(['rm', '-f', 'caps']);
  });

  test('every request that changes state is in the audit log, with its result', () => {
    api.docker(['rm', 'no-such-ctr']);
    const lines = readFileSync(join(e.root, 'audit.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const create = lines.find((l) => l.method === 'POST' && /\/containers\/create$/.test(l.path) && l.status === 201);
    assert.ok(create, 'a create');
    assert.match(create.target, /^[0-9a-z]{12}$/);
    assert.equal(create.who.transport, 'unix');
    const failed = lines.find((l) => l.method === 'DELETE' && l.target === 'no-such-ctr');
    assert.equal(failed.status, 404);
    assert.match(failed.error, /no-such-ctr/);
    assert.ok(!lines.some((l) => l.method === 'GET'), 'reads are not audited');
  });
});
