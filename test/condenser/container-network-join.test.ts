import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TestEngine, importBusybox, makeTestEngine, removeTestEngine } from '../helpers/engine.js';
import { HTTPD, get, inspect, listen } from '../helpers/network.js';

/* Traffic in these tests goes only to 127.0.0.1, on the host and inside the containers. */

const SUBNET = '10.167.241.0/24';
const PORT = 18180;

describe('raind networks: --network container:NAME, port ranges', () => {
  let e: TestEngine;
  before(() => {
    e = makeTestEngine('raind-network-join-');
    importBusybox(e);
    e.ok(['network', 'create', '--subnet', SUBNET, 'joinnet']);
  });
  after(() => {
    for (const id of e.run(['ps', '-aq']).stdout.split('\n').filter(Boolean)) e.run(['rm', '-f', id]);
    e.run(['network', 'rm', 'joinnet']);
    removeTestEngine(e);
  });

  test("container:NAME shares the other container's interfaces, address, etc files and 127.0.0.1", () => {
    const web = e.ok(['run', '-d', '--name', 'web', '--network', 'joinnet', 'busybox:test', ...HTTPD]).stdout.trim();
    const joined = e.ok(['run', '-d', '--network', 'container:web', 'busybox:test', 'sleep', '1000']).stdout.trim();
    const record = inspect(e, joined);
    assert.equal(record.HostConfig.NetworkMode, `container:${web}`);
    assert.deepEqual(record.NetworkSettings.Networks, {});
    /* the namespace joined is the other's pinned one */
    const spec = JSON.parse(readFileSync(join(e.root, 'containers', joined, 'config.json'), 'utf8'));
    const netns = spec.linux.namespaces.find((n: { type: string }) => n.type === 'network');
    assert.equal(netns.path, join(e.runRoot, 'netns', web));

    const address: string = inspect(e, web).NetworkSettings.Networks.joinnet.IPAddress;
    const addressIn = (id: string) => e.ok(['exec', id, 'ip', '-o', '-4', 'addr', 'show', 'eth0']).stdout;
    assert.match(addressIn(joined), new RegExp(` inet ${address.replaceAll('.', '\\.')}/24 `));
    assert.equal(addressIn(joined), addressIn(web));
    for (const file of ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf'])
      assert.equal(e.ok(['exec', joined, 'cat', file]).stdout, e.ok(['exec', web, 'cat', file]).stdout, file);
    assert.equal(e.ok(['exec', joined, 'hostname']).stdout, `${web}\n`);
    /* the other's server on the loopback they share */
    assert.equal(e.ok(['exec', joined, 'wget', '-qO-', 'http://127.0.0.1/']).stdout, `hello from ${web}\n`);
    assert.equal(
      e.ok(['run', '--rm', '--network', `container:${web}`, 'busybox:test', 'wget', '-qO-', 'http://127.0.0.1/']).stdout,
      `hello from ${web}\n`,
    );

    /* one without a pinned namespace (none) is joined through its init's */
    const lone = e.ok(['run', '-d', '--network', 'none', 'busybox:test', 'sleep', '1000']).stdout.trim();
    const loneJoin = e.ok(['create', '--network', `container:${lone}`, 'busybox:test', 'ls', '/sys/class/net']).stdout.trim();
    const loneSpec = JSON.parse(readFileSync(join(e.root, 'containers', loneJoin, 'config.json'), 'utf8'));
    const lonePid = inspect(e, lone).State.Pid;
    assert.equal(loneSpec.linux.namespaces.find((n: { type: string }) => n.type === 'network').path, `/proc/${lonePid}/ns/net`);
    e.ok(['start', loneJoin]);
    assert.equal(e.ok(['wait', loneJoin]).stdout.trim(), '0');
    assert.equal(e.ok(['logs', loneJoin]).stdout, 'lo\n');

    for (const id of [loneJoin, lone, joined, web]) e.ok(['rm', '-f', id]);
    assert.deepEqual(readdirSync(join(e.runRoot, 'netns')), []);
  });

  test('container:NAME is refused in one line, leaving nothing, when the other is missing or not running, or with network flags', () => {
    const web = e.ok(['run', '-d', '--name', 'web2', '--network', 'joinnet', 'busybox:test', 'sleep', '1000']).stdout.trim();
    const idle = e.ok(['create', '--name', 'idle', 'busybox:test', 'true']).stdout.trim();
    const before = e.ok(['ps', '-aq']).stdout;
    for (const [args, pattern] of [
      [['--network', 'container:no-such'], /^raind: --network container:no-such: no such container\n$/],
      [['--network', 'container:idle'], /^raind: --network container:idle: container idle is created, not running\n$/],
      [['--network', 'container:web2', '-p', '127.0.0.1::80'], /^raind: -p: cannot be used with --network container:web2/],
      [['--network', 'container:web2', '-P'], /^raind: -P: cannot be used/],
      [['--network', 'container:web2', '--ip', '10.167.241.50'], /^raind: --ip: cannot be used/],
      [['--network', 'container:web2', '--network-alias', 'x'], /^raind: --network-alias: cannot be used/],
      [['--network', 'container:web2', '--hostname', 'x'], /^raind: --hostname: cannot be used/],
      [['--network', 'container:web2', '--dns', '127.0.0.1'], /^raind: --dns: cannot be used/],
      [['--network', 'container:web2', '--add-host', 'a:127.0.0.1'], /^raind: --add-host: cannot be used/],
    ] as const) {
      const r = e.run(['run', '-d', ...args, 'busybox:test', 'true']);
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.equal(e.ok(['ps', '-aq']).stdout, before);

    /* a new start once the other has exited is refused before anything is mounted */
    const joined = e.ok(['run', '-d', '--network', 'container:web2', 'busybox:test', 'true']).stdout.trim();
    assert.equal(e.ok(['wait', joined]).stdout.trim(), '0');
    e.ok(['kill', web]);
    e.ok(['wait', web]);
    const start = e.run(['start', joined]);
    assert.notEqual(start.code, 0);
    assert.match(start.stderr, new RegExp(`--network container:${web}: container web2 is exited, not running\n$`));
    assert.equal(inspect(e, joined).State.Status, 'exited');
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(join(e.root, 'containers', joined)));
    e.ok(['rm', '-f', joined, web, idle]);
  });

  test('-p with port ranges: one netavark mapping per range, each port listed by port and served', async () => {
    const twoServers = [
      'sh',
      '-c',
      'mkdir -p /a /b && echo a > /a/index.html && echo b > /b/index.html && httpd -p 81 -h /b && exec httpd -f -p 80 -h /a',
    ];
    const id = e
      .ok([
        'run',
        '-d',
        '--network',
        'joinnet',
        '-p',
        `127.0.0.1:${PORT}-${PORT + 1}:80-81`,
        '-p',
        '127.0.0.1::90-91/udp',
        'busybox:test',
        ...twoServers,
      ])
      .stdout.trim();
    assert.equal(await get(`http://127.0.0.1:${PORT}/`), 'a\n');
    assert.equal(await get(`http://127.0.0.1:${PORT + 1}/`), 'b\n');
    const lines = e.ok(['port', id]).stdout.trim().split('\n').sort();
    assert.equal(lines.length, 4, lines.join('\n'));
    assert.deepEqual(lines.slice(0, 2), [`80/tcp -> 127.0.0.1:${PORT}`, `81/tcp -> 127.0.0.1:${PORT + 1}`]);
    assert.match(lines[2] ?? '', /^90\/udp -> 127\.0\.0\.1:\d+$/);
    assert.match(lines[3] ?? '', /^91\/udp -> 127\.0\.0\.1:\d+$/);
    assert.equal(e.ok(['port', id, '81']).stdout, `127.0.0.1:${PORT + 1}\n`);
    /* what netavark was given: the tcp range as one mapping */
    const state = JSON.parse(readFileSync(join(e.runRoot, 'containers', id, 'network.json'), 'utf8'));
    const tcp = state.setups[0].port_mappings.filter((m: { protocol: string }) => m.protocol === 'tcp');
    assert.deepEqual(tcp, [{ host_ip: '127.0.0.1', container_port: 80, host_port: PORT, range: 2, protocol: 'tcp' }]);
    e.ok(['rm', '-f', id]);
    /* both ports are free again */
    for (const port of [PORT, PORT + 1]) (await listen(port, '127.0.0.1')).close();
  });
});
