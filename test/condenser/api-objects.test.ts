import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import tar from 'tar-stream';
import { type ApiServer, startApiServer } from '../helpers/api-server.js';
import { apiRequest } from '../helpers/api-request.js';
import { bridgeLeft } from '../helpers/bridges.js';
import { type TestEngine, importBusybox, makeTestEngine, removeTestEngine } from '../helpers/engine.js';

/** Networks, volumes, docker cp, stats and events of `raind serve`, through the docker CLI
 * (and raw requests for what it cannot send). */
let engine: TestEngine;
let server: ApiServer;
const tag = `o${process.pid}`;
const SUBNET = `10.171.${(process.pid % 250) + 1}.0/24`;
/* a name no host has in /etc: a copy that escaped would leave it there */
const ESCAPE = `raind-api-escape-${process.pid}`;
const bridges = new Set<string>();

const api = (method: string, path: string, body?: string | Buffer) => apiRequest(server.socket, method, path, body);
const docker = (...args: string[]) => server.docker(args);
const dockerOk = (...args: string[]) => server.dockerOk(args).stdout;

before(async () => {
  engine = makeTestEngine('raind-api-objs-');
  importBusybox(engine, 'busybox:latest');
  server = await startApiServer(engine);
  dockerOk('run', '-d', '--pull', 'never', '--name', `${tag}-c1`, 'busybox:latest', 'sleep', '1000');
});

after(async () => {
  await server?.stop();
  if (engine) removeTestEngine(engine);
  for (const b of bridges) assert.equal(bridgeLeft(b, SUBNET), false, `bridge ${b} left behind`);
  assert.equal(existsSync(join('/etc', ESCAPE)), false, 'a copy escaped to the host');
});

describe('networks', () => {
  const net = `${tag}-net`;

  test('create with a subnet and labels, list with filters, inspect', async () => {
    const id = dockerOk('network', 'create', '--subnet', SUBNET, '--label', 'team=objs', '--label', 'flag', net).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const listed = dockerOk('network', 'ls', '--filter', 'label=team=objs', '--format', '{{.Name}}').trim();
    assert.equal(listed, net);
    assert.equal(dockerOk('network', 'ls', '--filter', 'label=flag', '-q', '--no-trunc').trim(), id);
    assert.equal(dockerOk('network', 'ls', '--filter', `id=${id.slice(0, 12)}`, '--format', '{{.Name}}').trim(), net);
    assert.equal(dockerOk('network', 'ls', '--filter', 'label=team=other', '-q').trim(), '');
    const [inspected] = JSON.parse(dockerOk('network', 'inspect', net));
    assert.equal(inspected.Id, id);
    assert.equal(inspected.Driver, 'bridge');
    assert.equal(inspected.Scope, 'local');
    assert.equal(inspected.IPAM.Config[0].Subnet, SUBNET);
    assert.deepEqual(inspected.Labels, { team: 'objs', flag: '' });
    /* as compose reads them: only those given at create */
    assert.deepEqual(inspected.Options, {});
    bridges.add(JSON.parse(engine.ok(['network', 'inspect', net]).stdout)[0].Options['com.docker.network.bridge.name']);
    /* docker's name of the default network answers too */
    const [bridge] = JSON.parse(dockerOk('network', 'inspect', 'bridge'));
    assert.equal(bridge.Name, 'raind');
  });

  test('a name taken is a 409, an unknown network a 404, a bad body a 400', async () => {
    const again = docker('network', 'create', net);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already exists/);
    assert.equal((await api('POST', '/networks/create', JSON.stringify({ Name: net }))).status, 409);
    assert.equal((await api('POST', '/networks/create', JSON.stringify({ Name: 'bridge' }))).status, 409);
    const missing = await api('GET', `/networks/${tag}-nope`);
    assert.equal(missing.status, 404);
    assert.ok(missing.json().message);
    assert.notEqual(docker('network', 'inspect', `${tag}-nope`).code, 0);
    assert.equal((await api('DELETE', `/networks/${tag}-nope`)).status, 404);
    const bad = await api('POST', '/networks/create', '{"Name": ');
    assert.equal(bad.status, 400);
    assert.match(bad.json().message, /JSON/);
    assert.match((await api('POST', '/networks/create', JSON.stringify({ Name: 5 }))).json().message, /^Name: /);
    assert.equal((await api('POST', '/networks/create', JSON.stringify({ Name: `${tag}-x`, Driver: 'overlay' }))).status, 400);
    assert.equal((await api('POST', '/networks/create', JSON.stringify({ Name: `${tag}-x`, IPAM: { Config: 'x' } }))).status, 400);
    assert.equal((await api('GET', '/networks?filters={"colour":["red"]}')).status, 400);
    const withOptions = await api(
      'POST',
      '/networks/create',
      JSON.stringify({ Name: `${tag}-x`, Options: { 'com.docker.network.driver.mtu': '1400' } }),
    );
    assert.match(withOptions.json().message, /^Options: .*mtu/);
    const noV6Subnet = await api('POST', '/networks/create', JSON.stringify({ Name: `${tag}-x`, EnableIPv6: true }));
    assert.equal(noV6Subnet.status, 400);
    assert.match(noV6Subnet.json().message, /IPv6 --subnet/);
    assert.equal(dockerOk('network', 'ls', '--filter', `name=${tag}-x`, '-q').trim(), '', 'a refused create left a network');
  });

  test('a container on it shows in inspect; removing it is refused while it is there', async () => {
    const c = dockerOk(
      'run',
      '-d',
      '--pull',
      'never',
      '--name',
      `${tag}-onnet`,
      '--network',
      net,
      'busybox:latest',
      'sleep',
      '1000',
    ).trim();
    const [inspected] = JSON.parse(dockerOk('network', 'inspect', net));
    assert.equal(inspected.Containers[c].Name, `${tag}-onnet`);
    assert.equal(dockerOk('network', 'ls', '--filter', 'dangling=false', '--filter', 'type=custom', '--format', '{{.Name}}').trim(), net);
    assert.equal(dockerOk('network', 'ls', '--filter', 'dangling=true', '-q').trim(), '');
    assert.match(inspected.Containers[c].IPv4Address, /^10\.171\./);
    /* a second network for a running container, and off it again */
    dockerOk('network', 'connect', '--alias', `${tag}-second`, net, `${tag}-c1`);
    const both = JSON.parse(dockerOk('inspect', `${tag}-c1`))[0].NetworkSettings.Networks;
    assert.deepEqual(Object.keys(both).sort(), ['raind', net].sort());
    assert.match(both[net].IPAddress, /^10\.171\./);
    assert.ok(both[net].Aliases.includes(`${tag}-second`));
    const again = docker('network', 'connect', net, `${tag}-c1`);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already/);
    assert.equal((await api('POST', `/networks/${net}/connect`, JSON.stringify({ Container: `${tag}-nope` }))).status, 404);
    assert.equal((await api('POST', `/networks/${net}/connect`, '{"Container": 5}')).status, 400);
    dockerOk('network', 'disconnect', net, `${tag}-c1`);
    assert.deepEqual(Object.keys(JSON.parse(dockerOk('inspect', `${tag}-c1`))[0].NetworkSettings.Networks), ['raind']);
    const refused = await api('DELETE', `/networks/${net}`);
    assert.equal(refused.status, 409);
    assert.notEqual(docker('network', 'rm', net).code, 0);
    dockerOk('rm', '-f', c);
    dockerOk('network', 'rm', net);
    assert.equal((await api('GET', `/networks/${net}`)).status, 404);
  });

  test('create through the API body (IPAM), then prune removes the unused ones', async () => {
    const created = await api(
      'POST',
      '/networks/create',
      JSON.stringify({
        Name: `${tag}-p1`,
        CheckDuplicate: true,
        Labels: { p: '1' },
        IPAM: { Driver: 'default', Config: [{ Subnet: SUBNET }] },
      }),
    );
    assert.equal(created.status, 201, created.body.toString());
    assert.match(created.json().Id, /^[0-9a-f]{64}$/);
    assert.equal(created.json().Warning, '');
    const pruned = dockerOk('network', 'prune', '-f');
    assert.match(pruned, new RegExp(`${tag}-p1`));
    assert.equal((await api('GET', `/networks/${tag}-p1`)).status, 404);
    /* the default network stays */
    assert.equal((await api('GET', '/networks/bridge')).status, 200);
  });
});

describe('volumes', () => {
  const vol = `${tag}-vol`;

  test('create with labels, list with filters, inspect', async () => {
    assert.equal(dockerOk('volume', 'create', '--label', 'team=objs', vol).trim(), vol);
    assert.equal(dockerOk('volume', 'ls', '--filter', 'label=team=objs', '-q').trim(), vol);
    assert.equal(dockerOk('volume', 'ls', '--filter', `name=${tag}`, '-q').trim(), vol);
    assert.equal(dockerOk('volume', 'ls', '--filter', 'dangling=true', '-q').trim(), vol);
    const [v] = JSON.parse(dockerOk('volume', 'inspect', vol));
    assert.equal(v.Driver, 'local');
    assert.deepEqual(v.Labels, { team: 'objs' });
    const listed = (await api('GET', '/volumes')).json();
    assert.deepEqual(listed.Warnings, []);
    assert.ok(listed.Volumes.some((x: { Name: string }) => x.Name === vol));
  });

  test('a volume in use is a 409; unknown a 404; bad bodies a 400', async () => {
    const c = dockerOk('run', '-d', '--pull', 'never', '-v', `${vol}:/data`, 'busybox:latest', 'sleep', '1000').trim();
    assert.equal((await api('DELETE', `/volumes/${vol}`)).status, 409);
    assert.equal((await api('DELETE', `/volumes/${vol}?force=1`)).status, 409);
    assert.notEqual(docker('volume', 'rm', vol).code, 0);
    assert.equal(dockerOk('volume', 'ls', '--filter', 'dangling=false', '-q').trim(), vol);
    dockerOk('rm', '-f', c);
    assert.equal((await api('GET', `/volumes/${tag}-nope`)).status, 404);
    assert.equal((await api('DELETE', `/volumes/${tag}-nope`)).status, 404);
    assert.equal((await api('DELETE', `/volumes/${tag}-nope?force=true`)).status, 204);
    assert.equal((await api('POST', '/volumes/create', JSON.stringify({ Name: 'bad name!' }))).status, 400);
    assert.match((await api('POST', '/volumes/create', JSON.stringify({ Labels: 'x' }))).json().message, /^Labels: /);
    assert.equal((await api('POST', '/volumes/create', JSON.stringify({ Name: `${tag}-v2`, Driver: 'nfs' }))).status, 400);
    assert.equal((await api('POST', '/volumes/create', '[1]')).status, 400);
    dockerOk('volume', 'rm', vol);
    assert.equal((await api('GET', `/volumes/${vol}`)).status, 404);
  });

  test('create through the API answers 201 with the volume; prune -a removes the unused', async () => {
    const made = await api('POST', '/volumes/create', JSON.stringify({ Name: `${tag}-v3`, Labels: { a: 'b' }, DriverOpts: {} }));
    assert.equal(made.status, 201);
    assert.equal(made.json().Name, `${tag}-v3`);
    assert.match(dockerOk('volume', 'prune', '-a', '-f'), new RegExp(`${tag}-v3`));
    assert.equal(dockerOk('volume', 'ls', '-q').trim(), '');
  });
});

describe('docker cp and export', () => {
  const c1 = `${tag}-c1`;

  test('a host file into the container and back, and a tar stream out', () => {
    const dir = join(engine.dir, 'cp');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'hello.txt'), 'hello raind\n');
    dockerOk('cp', join(dir, 'hello.txt'), `${c1}:/tmp/`);
    dockerOk('cp', `${c1}:/tmp/hello.txt`, join(dir, 'back.txt'));
    assert.equal(readFileSync(join(dir, 'back.txt'), 'utf8'), 'hello raind\n');
    const out = execFileSync('docker', ['cp', `${c1}:/tmp/hello.txt`, '-'], { env: server.env });
    const names = execFileSync('tar', ['-t'], { input: out }).toString();
    assert.equal(names.trim(), 'hello.txt');
    /* a directory, into a new name */
    dockerOk('cp', `${c1}:/etc`, join(dir, 'etc-copy'));
    assert.match(readFileSync(join(dir, 'etc-copy', 'passwd'), 'utf8'), /^root:x:0:0:root:\/root:\/bin\/sh\nnobody/);
  });

  test('"../../" and symlinks pointing out stay inside the container', async () => {
    const dir = join(engine.dir, 'cp');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, ESCAPE), 'escaped?\n');
    dockerOk('cp', join(dir, ESCAPE), `${c1}:../../../../../etc/`);
    assert.equal(existsSync(join('/etc', ESCAPE)), false);
    const back = docker('cp', `${c1}:/etc/${ESCAPE}`, join(dir, 'e1'));
    assert.equal(back.code, 0, back.stderr);
    assert.equal(readFileSync(join(dir, 'e1'), 'utf8'), 'escaped?\n');
    /* a symlink to the host's /etc, put in the container as a tar entry */
    const pack = tar.pack();
    pack.entry({ name: 'out', type: 'symlink', linkname: '/../../../../etc' });
    pack.entry({ name: 'rel', type: 'symlink', linkname: '../../../../../../etc/passwd' });
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    const put = await api('PUT', `/containers/${c1}/archive?path=/tmp&noOverwriteDirNonDir=true`, Buffer.concat(chunks));
    assert.equal(put.status, 200, put.body.toString());
    /* through the link: the container's /etc, never the host's */
    writeFileSync(join(dir, `${ESCAPE}-2`), 'through a link\n');
    dockerOk('cp', join(dir, `${ESCAPE}-2`), `${c1}:/tmp/out/`);
    assert.equal(existsSync(join('/etc', `${ESCAPE}-2`)), false, 'a copy through a symlink escaped to the host');
    const passwd = execFileSync('docker', ['cp', `${c1}:/tmp/out/passwd`, '-'], { env: server.env });
    const text = execFileSync('tar', ['-xO'], { input: passwd }).toString();
    assert.equal(text, 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
    const followed = execFileSync('docker', ['cp', '-L', `${c1}:/tmp/rel`, '-'], { env: server.env });
    assert.equal(execFileSync('tar', ['-xO'], { input: followed }).toString(), text);
    /* the stat header of a link names what it leads to, inside the root */
    const head = await api('HEAD', `/containers/${c1}/archive?path=/tmp/rel`);
    assert.equal(head.status, 200);
    const stat = JSON.parse(Buffer.from(String(head.headers['x-docker-container-path-stat']), 'base64').toString());
    assert.equal(stat.name, 'rel');
    assert.equal(stat.linkTarget, '/etc/passwd');
    assert.ok(stat.mode & (2 ** 27), 'a symlink mode');
  });

  test('HEAD and PUT answer 404 for a missing path, 400 for a file as the destination', async () => {
    assert.equal((await api('HEAD', `/containers/${c1}/archive?path=/nope`)).status, 404);
    assert.equal((await api('GET', `/containers/${c1}/archive?path=/nope`)).status, 404);
    assert.equal((await api('PUT', `/containers/${c1}/archive?path=/nope`, Buffer.alloc(1024))).status, 404);
    assert.equal((await api('PUT', `/containers/${c1}/archive?path=/etc/passwd`, Buffer.alloc(1024))).status, 400);
    assert.equal((await api('GET', `/containers/${c1}/archive`)).status, 400);
    assert.equal((await api('HEAD', `/containers/${tag}-nope/archive?path=/`)).status, 404);
    const dir = (await api('HEAD', `/containers/${c1}/archive?path=/etc`)).headers['x-docker-container-path-stat'];
    assert.ok(JSON.parse(Buffer.from(String(dir), 'base64').toString()).mode >= 2 ** 31, 'a directory mode');
  });

  test('noOverwriteDirNonDir: a directory entry does not replace a file; a file never replaces a directory', async () => {
    const tarOf = async (entries: { name: string; type: 'file' | 'directory'; body?: string }[]) => {
      const pack = tar.pack();
      for (const e of entries) pack.entry({ name: e.name, type: e.type }, e.body ?? '');
      pack.finalize();
      const chunks: Buffer[] = [];
      for await (const c of pack) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    const put = async (query: string, body: Buffer) => (await api('PUT', `/containers/${c1}/archive?path=/tmp${query}`, body)).status;
    assert.equal(
      await put(
        '',
        await tarOf([
          { name: 'nodir', type: 'file', body: 'f' },
          { name: 'adir', type: 'directory' },
        ]),
      ),
      200,
    );
    const dirOverFile = await tarOf([{ name: 'nodir', type: 'directory' }]);
    assert.equal(await put('&noOverwriteDirNonDir=true', dirOverFile), 400);
    assert.equal(await put('&noOverwriteDirNonDir=true', await tarOf([{ name: 'adir', type: 'file', body: 'x' }])), 400);
    assert.equal(await put('', await tarOf([{ name: 'adir', type: 'file', body: 'x' }])), 400);
    /* without the option, docker replaces the file with the directory */
    assert.equal(await put('', dirOverFile), 200);
    const stat = (await api('HEAD', `/containers/${c1}/archive?path=/tmp/nodir`)).headers['x-docker-container-path-stat'];
    assert.ok(JSON.parse(Buffer.from(String(stat), 'base64').toString()).mode >= 2 ** 31, 'now a directory');
  });

  test('export is a tar of the root filesystem', () => {
    const out = execFileSync('docker', ['export', c1], { env: server.env, maxBuffer: 256 << 20 });
    const names = execFileSync('tar', ['-t'], { input: out, maxBuffer: 64 << 20 })
      .toString()
      .split('\n');
    assert.ok(names.includes('bin/busybox'), 'bin/busybox in the export');
  });
});

describe('stats', () => {
  test('docker stats --no-stream shows CPU and memory', () => {
    const line = dockerOk('stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}', `${tag}-c1`).trim();
    assert.match(line, new RegExp(`^${tag}-c1 \\d+\\.\\d+% [\\d.]+[KMG]?i?B / [\\d.]+[KMG]iB 1$`));
    const [, , usage] = line.split(' ');
    assert.notEqual(usage, '0B', 'memory in use');
  });

  test('stream=false: one reading with precpu_stats; one-shot: at once', async () => {
    const one = await api('GET', `/containers/${tag}-c1/stats?stream=false`);
    assert.equal(one.status, 200);
    const s = one.json();
    assert.equal(s.name, `/${tag}-c1`);
    assert.ok(s.cpu_stats.cpu_usage.total_usage > 0);
    assert.ok(s.cpu_stats.system_cpu_usage > s.precpu_stats.system_cpu_usage);
    assert.ok(s.cpu_stats.online_cpus >= 1);
    assert.ok(s.memory_stats.usage > 0 && s.memory_stats.limit > 0);
    assert.equal(s.pids_stats.current, 1);
    assert.ok(s.networks?.eth0, 'eth0 counters');
    const shot = (await api('GET', `/containers/${tag}-c1/stats?stream=false&one-shot=true`)).json();
    assert.equal(shot.precpu_stats.system_cpu_usage, undefined);
    assert.equal((await api('GET', `/containers/${tag}-nope/stats?stream=false`)).status, 404);
  });

  test('stream: one reading a second until the client goes', async () => {
    const readings = await new Promise<any[]>((resolve, reject) => {
      const got: any[] = [];
      const req = request({ socketPath: server.socket, path: `/containers/${tag}-c1/stats` }, (res) => {
        let buf = '';
        res.on('data', (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split('\n');
          buf = lines.pop() ?? '';
          got.push(...lines.filter(Boolean).map((l) => JSON.parse(l)));
          if (got.length >= 3) {
            req.destroy();
            resolve(got);
          }
        });
      });
      req.on('error', (e) => (got.length >= 3 ? undefined : reject(e)));
      req.setTimeout(10_000, () => req.destroy(new Error('no 3 readings in 10 s')));
      req.end();
    });
    /* the first has no precpu_stats; each later one has the one before */
    assert.equal(readings[0].precpu_stats.system_cpu_usage, undefined);
    assert.equal(readings[2].precpu_stats.system_cpu_usage, readings[1].cpu_stats.system_cpu_usage);
    assert.ok(Date.parse(readings[2].read) - Date.parse(readings[1].read) >= 900);
  });
});

describe('events', () => {
  const collect = (args: string[]): { child: ChildProcess; lines: () => any[]; done: Promise<number | null> } => {
    const child = spawn('docker', ['events', '--format', '{{json .}}', ...args], { env: server.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return {
      child,
      done,
      lines: () =>
        out
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l)),
    };
  };
  const until = async (what: () => boolean, ms = 15_000) => {
    for (const deadline = Date.now() + ms; !what(); ) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
    return true;
  };

  test('a container life, from the API and from the raind CLI, with filters; a bounded query ends', async () => {
    const since = Math.floor(Date.now() / 1000);
    const name = `${tag}-ev`;
    const watch = collect(['--filter', `container=${name}`, '--filter', 'type=container']);
    const nets = collect(['--filter', 'type=network']);
    await new Promise((r) => setTimeout(r, 500));
    dockerOk('run', '-d', '--pull', 'never', '--name', name, '--label', 'ev=1', 'busybox:latest', 'sleep', '1000');
    dockerOk('pause', name);
    dockerOk('unpause', name);
    dockerOk('stop', '-t', '1', name);
    /* the raind CLI, another process: its events are the journal's too */
    engine.ok(['start', name]);
    engine.ok(['kill', name]);
    engine.ok(['rm', '-f', name]);
    engine.ok(['network', 'create', `${tag}-evnet`]);
    engine.ok(['network', 'rm', `${tag}-evnet`]);
    const actions = () => watch.lines().map((e) => e.Action);
    const want = ['create', 'start', 'pause', 'unpause', 'die', 'stop', 'start', 'kill', 'die', 'destroy'];
    const seen = await until(() => want.every((a) => actions().includes(a)) && nets.lines().length >= 2);
    watch.child.kill();
    nets.child.kill();
    await Promise.all([watch.done, nets.done]);
    const journal = () => readFileSync(join(engine.runRoot, 'events.log'), 'utf8');
    assert.ok(seen, `events seen: ${actions().join(', ')}; the journal: ${journal()}`);
    for (const e of watch.lines()) {
      assert.equal(e.Type, 'container');
      assert.equal(e.Actor.Attributes.name, name);
      assert.equal(e.scope, 'local');
      assert.equal(e.status, e.Action);
      assert.equal(e.from, 'busybox:latest');
    }
    /* each death told once: by conmon's cleanup, or by the start or rm that came first */
    assert.deepEqual(actions().filter((a) => a === 'die').length, 2, actions().join(', '));
    assert.deepEqual(actions().filter((a) => a === 'start').length, 2, actions().join(', '));
    const die = watch.lines().find((e) => e.Action === 'die');
    assert.equal(die.Actor.Attributes.exitCode, '137');
    assert.equal(die.Actor.Attributes.ev, '1');
    assert.deepEqual(
      nets.lines().map((e) => [e.Action, e.Actor.Attributes.name]),
      [
        ['create', `${tag}-evnet`],
        ['destroy', `${tag}-evnet`],
      ],
    );
    /* since and until: the journal replayed, and the stream ends */
    const now = Math.ceil(Date.now() / 1000) + 1;
    const bounded = collect([
      '--since',
      String(since),
      '--until',
      String(now),
      '--filter',
      `container=${name}`,
      '--filter',
      'event=destroy',
    ]);
    const code = await Promise.race([bounded.done, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
    assert.equal(code, 0, 'a bounded query ends');
    assert.equal(bounded.lines().length, 1);
    const short = collect(['--since', '0s', '--until', '1s']);
    assert.equal(await Promise.race([short.done, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]), 0);
    assert.equal((await api('GET', '/events?filters={"colour":["red"]}')).status, 400);
    assert.equal((await api('GET', '/events?since=yesterday')).status, 400);
  });

  test("images', volumes' and renames' events, replayed by since/until with type and event filters", async () => {
    const since = (Date.now() / 1000).toFixed(3);
    engine.ok(['tag', 'busybox:latest', `${tag}/copy:1`]);
    engine.ok(['rmi', `${tag}/copy:1`]);
    dockerOk('volume', 'create', `${tag}-evvol`);
    dockerOk('volume', 'rm', `${tag}-evvol`);
    dockerOk('create', '--pull', 'never', '--name', `${tag}-old`, 'busybox:latest');
    dockerOk('rename', `${tag}-old`, `${tag}-new`);
    dockerOk('rm', `${tag}-new`);
    const until = String(Math.ceil(Date.now() / 1000) + 1);
    const query = (...filters: string[]) => {
      const r = server.docker([
        'events',
        '--format',
        '{{json .}}',
        '--since',
        since,
        '--until',
        until,
        ...filters.flatMap((f) => ['--filter', f]),
      ]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    };
    assert.deepEqual(
      query('type=image').map((e) => [e.Action, e.Actor.Attributes.name]),
      [
        ['tag', `${tag}/copy:1`],
        ['untag', `${tag}/copy:1`],
      ],
    );
    assert.deepEqual(
      query('type=volume', `volume=${tag}-evvol`).map((e) => e.Action),
      ['create', 'destroy'],
    );
    const [renamed] = query('event=rename');
    assert.equal(renamed.Actor.Attributes.name, `${tag}-new`);
    assert.equal(renamed.Actor.Attributes.oldName, `${tag}-old`);
    assert.deepEqual(
      query(`container=${tag}-new`).map((e) => e.Action),
      ['rename', 'destroy'],
    );
  });
});
