import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TestEngine, importBusybox, makeTestEngine, removeTestEngine } from '../helpers/engine.js';
import { HTTPD, get, inspect, listen } from '../helpers/network.js';
import { RAIND } from '../helpers/raind.js';

/* Traffic in these tests goes only between this host and the tests' containers: to
 * 127.0.0.1 and to the addresses of the bridges the tests make. */

const SUBNET = '10.167.231.0/24';
const PORT = 18080;

/** The host side of the container's eth0: its interface index, read inside the container. */
const hostVethIndex = (e: TestEngine, id: string) => Number(e.ok(['exec', id, 'cat', '/sys/class/net/eth0/iflink']).stdout.trim());
const hostLinks = () => execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' });
const firewallRules = () => ['filter', 'nat'].map((t) => execFileSync('iptables-save', ['-t', t], { encoding: 'utf8' })).join('\n');

/** What a container's network could leave on the host once it is removed. */
function networkLeftovers(e: TestEngine, id: string, address: string, vethIndex: number): string[] {
  const left: string[] = [];
  if (new RegExp(`^${vethIndex}: `, 'm').test(hostLinks())) left.push(`link ${vethIndex}`);
  const netns = join(e.runRoot, 'netns', id);
  if (existsSync(netns)) left.push(`netns file ${netns}`);
  if (readFileSync('/proc/self/mountinfo', 'utf8').includes(netns)) left.push(`netns mount ${netns}`);
  const rules = firewallRules()
    .split('\n')
    .filter((l) => l.includes(`${address}/`) || l.includes(`${address}:`) || l.includes(`id: ${id}`));
  left.push(...rules);
  return left;
}

describe('raind networks: the raind0 bridge, user networks, published ports', () => {
  let e: TestEngine;
  before(() => {
    e = makeTestEngine('raind-network-');
    importBusybox(e);
    e.ok(['network', 'create', '--subnet', SUBNET, '--label', 'suite=network', 'testnet']);
  });
  after(() => {
    removeTestEngine(e);
  });

  test('network create, ls, inspect; bad and clashing ones are refused in one line', () => {
    const ls = e.ok(['network', 'ls']).stdout;
    assert.match(ls, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/m);
    assert.match(ls, /^[0-9a-f]{12}\s+raind\s+bridge\s+local$/m);
    assert.match(ls, /^[0-9a-f]{12}\s+testnet\s+bridge\s+local$/m);
    const [net] = JSON.parse(e.ok(['network', 'inspect', 'testnet']).stdout);
    assert.match(net.Id, /^[0-9a-f]{64}$/);
    assert.deepEqual(net.IPAM.Config, [{ Subnet: SUBNET, Gateway: '10.167.231.1' }]);
    assert.deepEqual(net.Labels, { suite: 'network' });
    assert.match(net.Options['com.docker.network.bridge.name'], /^raind\d+$/);
    const [def] = JSON.parse(e.ok(['network', 'inspect', 'bridge']).stdout);
    assert.equal(def.Name, 'raind');
    assert.deepEqual(def.IPAM.Config, [{ Subnet: '10.166.0.0/16', Gateway: '10.166.0.1' }]);
    assert.equal(def.Options['com.docker.network.bridge.name'], 'raind0');
    assert.equal(JSON.parse(e.ok(['network', 'ls', '--format', 'json']).stdout).length, 2);

    for (const [args, pattern] of [
      [['testnet'], /already exists/],
      [['--subnet', '10.167.231.128/25', 'other'], /overlaps network testnet/],
      [['--subnet', '10.166.5.0/24', 'other'], /overlaps network raind/],
      [['--subnet', '10.167.232.1/24', 'other'], /host bits/],
      [['--subnet', 'ten/8', 'other'], /not an IPv4 subnet/],
      [['--subnet', '10.167.233.0/24', '--gateway', '10.167.234.1', 'other'], /--gateway 10.167.234.1: not a host address/],
      [['bridge'], /reserved name/],
      [['bad/name'], /must be letters, digits/],
    ] as const) {
      const r = e.run(['network', 'create', ...args]);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.equal(e.ok(['network', 'ls', '-q']).stdout.trim().split('\n').length, 2);
    const rmDefault = e.run(['network', 'rm', 'raind']);
    assert.notEqual(rmDefault.code, 0);
    assert.match(rmDefault.stderr, /default network/);
  });

  test('-p 127.0.0.1:HOST:CTR serves the host; inspect, port, and the address reached directly; rm leaves nothing', async () => {
    const id = e
      .ok(['run', '-d', '--name', 'web', '--network', 'testnet', '-p', `127.0.0.1:${PORT}:80`, 'busybox:test', ...HTTPD])
      .stdout.trim();
    assert.equal(await get(`http://127.0.0.1:${PORT}/`), `hello from ${id}\n`);

    const settings = inspect(e, id).NetworkSettings;
    const address: string = settings.IPAddress;
    assert.match(address, /^10\.167\.231\.\d+$/);
    assert.equal(settings.Gateway, '10.167.231.1');
    assert.equal(settings.IPPrefixLen, 24);
    assert.deepEqual(settings.Ports, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(PORT) }] });
    const endpoint = settings.Networks.testnet;
    assert.equal(endpoint.IPAddress, address);
    assert.match(endpoint.MacAddress, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.ok(endpoint.Aliases.includes('web'));
    assert.equal(e.ok(['port', 'web']).stdout, `80/tcp -> 127.0.0.1:${PORT}\n`);
    assert.equal(e.ok(['port', 'web', '80']).stdout, `127.0.0.1:${PORT}\n`);
    assert.match(e.ok(['ps']).stdout, new RegExp(`127\\.0\\.0\\.1:${PORT}->80/tcp\\s+web$`, 'm'));

    /* the host reaches the container's own address; the container knows its name */
    assert.equal(await get(`http://${address}/`), `hello from ${id}\n`);
    assert.match(e.ok(['exec', id, 'cat', '/etc/hosts']).stdout, new RegExp(`^${address.replace(/\./g, '\\.')}\\s+${id} web$`, 'm'));
    assert.match(e.ok(['exec', id, 'ip', '-o', '-4', 'addr', 'show', 'eth0']).stdout, new RegExp(`inet ${address}/24`));

    /* a network with a container on it stays */
    const rmNet = e.run(['network', 'rm', 'testnet']);
    assert.notEqual(rmNet.code, 0);
    assert.match(rmNet.stderr, /in use by container web/);

    const veth = hostVethIndex(e, id);
    assert.match(hostLinks(), new RegExp(`^${veth}: `, 'm'));
    e.ok(['rm', '-f', id]);
    assert.deepEqual(networkLeftovers(e, id, address, veth), []);

    /* the port is free again */
    const again = e.ok(['run', '-d', '--network', 'testnet', '-p', `127.0.0.1:${PORT}:80`, 'busybox:test', ...HTTPD]).stdout.trim();
    assert.equal(await get(`http://127.0.0.1:${PORT}/`), `hello from ${again}\n`);
    e.ok(['rm', '-f', again]);
  });

  test('a host port already taken is refused at create with exit 125, leaving nothing', async () => {
    const before = e.ok(['ps', '-aq']).stdout;
    const server = await listen(PORT + 1, '127.0.0.1');
    try {
      const r = e.run(['run', '-d', '--network', 'testnet', '-p', `127.0.0.1:${PORT + 1}:80`, 'busybox:test', ...HTTPD]);
      assert.equal(r.code, 125, r.stderr);
      assert.equal(r.stderr, `raind: -p 127.0.0.1:${PORT + 1}:80/tcp: the host port is already in use\n`);
    } finally {
      server.close();
    }
    assert.equal(e.ok(['ps', '-aq']).stdout, before);

    /* a port another container publishes is taken too, though no process listens on it */
    const first = e
      .ok(['run', '-d', '--name', 'holder', '--network', 'testnet', '-p', `${PORT + 2}:80`, 'busybox:test', ...HTTPD])
      .stdout.trim();
    const second = e.run(['create', '--network', 'testnet', '-p', `127.0.0.1:${PORT + 2}:80`, 'busybox:test', ...HTTPD]);
    assert.equal(second.code, 125, second.stderr);
    assert.match(second.stderr, /already published by container holder\n$/);
    assert.equal(e.ok(['ps', '-aq']).stdout.trim(), [first, ...before.trim().split('\n').filter(Boolean)].join('\n'));
    e.ok(['rm', '-f', first]);
    assert.deepEqual(existsSync(join(e.runRoot, 'netns')) ? execFileSync('ls', [join(e.runRoot, 'netns')], { encoding: 'utf8' }) : '', '');
  });

  test('-p CTR picks a free host port; bad -p values and -p without a network are refused', async () => {
    const id = e.ok(['run', '-d', '--network', 'testnet', '-p', '127.0.0.1::80', 'busybox:test', ...HTTPD]).stdout.trim();
    const line = e.ok(['port', id]).stdout;
    const m = /^80\/tcp -> 127\.0\.0\.1:(\d+)\n$/.exec(line);
    assert.ok(m, line);
    assert.equal(await get(`http://127.0.0.1:${m[1]}/`), `hello from ${id}\n`);
    e.ok(['rm', '-f', id]);
    for (const [flag, pattern] of [
      ['80/sctp', /protocol must be tcp or udp/],
      ['0:80', /host port must be a number from 1 to 65535/],
      ['8080-8082:80-81', /ranges must have the same length/],
      ['81-80', /range 81-80 ends before it starts/],
      ['1.2.3:80:80', /not an IPv4 address/],
    ] as const) {
      const r = e.run(['create', '-p', flag, 'busybox:test', 'true']);
      assert.equal(r.code, 125, flag);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
    const none = e.run(['create', '--network', 'none', '-p', '80', 'busybox:test', 'true']);
    assert.equal(none.code, 125);
    assert.match(none.stderr, /publishing ports needs a network/);
    const missing = e.run(['create', '--network', 'no-such-net', 'busybox:test', 'true']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /--network: network no-such-net does not exist/);
    assert.equal(e.ok(['ps', '-aq']).stdout, '');
  });

  test('the default network is raind0 (10.166.0.0/16); --network none and host keep their own', async () => {
    const id = e.ok(['run', '-d', 'busybox:test', ...HTTPD]).stdout.trim();
    const record = inspect(e, id);
    assert.equal(record.HostConfig.NetworkMode, 'raind');
    const address: string = record.NetworkSettings.Networks.raind.IPAddress;
    assert.match(address, /^10\.166\.\d+\.\d+$/);
    assert.equal(record.NetworkSettings.Gateway, '10.166.0.1');
    assert.equal(record.NetworkSettings.Bridge, 'raind0');
    assert.equal(await get(`http://${address}/`), `hello from ${id}\n`);
    /* resolv.conf keeps the host's nameservers that the container can reach */
    const resolv = e.ok(['exec', id, 'cat', '/etc/resolv.conf']).stdout;
    assert.doesNotMatch(resolv, /nameserver\s+127\./);
    const veth = hostVethIndex(e, id);
    e.ok(['rm', '-f', id]);
    assert.deepEqual(networkLeftovers(e, id, address, veth), []);

    assert.equal(e.ok(['run', '--rm', '--network', 'none', 'busybox:test', 'sh', '-c', 'ls /sys/class/net']).stdout, 'lo\n');
    const hostLinksSeen = e.ok(['run', '--rm', '--network', 'host', 'busybox:test', 'ls', '/sys/class/net']).stdout;
    assert.match(hostLinksSeen, /^lo$/m);
    assert.ok(hostLinksSeen.split('\n').length > 2, hostLinksSeen);
  });

  test('stop releases the network and start sets it up again', async () => {
    const id = e.ok(['run', '-d', '--network', 'testnet', '-p', `127.0.0.1:${PORT + 3}:80`, 'busybox:test', ...HTTPD]).stdout.trim();
    await get(`http://127.0.0.1:${PORT + 3}/`);
    e.ok(['stop', '-t', '0', id]);
    assert.equal(e.ok(['wait', id]).stdout, '137\n');
    /* conmon's cleanup runs a moment after the exit */
    for (let i = 0; i < 100 && existsSync(join(e.runRoot, 'netns', id)); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(existsSync(join(e.runRoot, 'netns', id)), false);
    assert.deepEqual(inspect(e, id).NetworkSettings.Networks, {});
    e.ok(['start', id]);
    assert.match(inspect(e, id).NetworkSettings.IPAddress, /^10\.167\.231\.\d+$/);
    assert.equal(await get(`http://127.0.0.1:${PORT + 3}/`), `hello from ${id}\n`);
    e.ok(['rm', '-f', id]);
  });

  test('20 containers created at once on raind0 get 20 distinct addresses', async () => {
    const create = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(RAIND, [...e.globalArgs, 'create', 'busybox:test', 'sleep', '100'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => {
          stdout += d;
        });
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        child.on('close', (code) => (code === 0 ? resolve(stdout.trim()) : reject(new Error(`create exited ${code}: ${stderr}`))));
      });
    const ids = await Promise.all(Array.from({ length: 20 }, create));
    const addresses = ids.map((id) => inspect(e, id).NetworkSettings.Networks.raind.IPAddress as string);
    for (const a of addresses) assert.match(a, /^10\.166\.\d+\.\d+$/);
    assert.equal(new Set(addresses).size, 20, addresses.join(' '));
    e.ok(['rm', '-f', ...ids]);
    const leases = readFileSync('/run/raind-networks/leases.json', 'utf8');
    for (const id of ids) assert.ok(!leases.includes(id), `${id} still holds a lease`);
  });

  test('containers on a network reach each other; --internal has no route out (checked by the routes and rules)', () => {
    const addressOf = (id: string) => inspect(e, id).NetworkSettings.IPAddress as string;
    const a = e.ok(['run', '-d', '--network', 'testnet', 'busybox:test', 'sleep', '100']).stdout.trim();
    const b = e.ok(['run', '-d', '--network', 'testnet', 'busybox:test', 'sleep', '100']).stdout.trim();
    assert.match(e.ok(['exec', a, 'ping', '-c', '1', '-W', '5', addressOf(b)]).stdout, /1 packets received/);
    assert.match(e.ok(['exec', a, 'ip', 'route']).stdout, /^default via 10\.167\.231\.1 dev eth0/m);
    assert.ok(firewallRules().includes('-s 10.167.231.0/24'), 'the subnet is masqueraded');

    e.ok(['network', 'create', '--internal', '--subnet', '10.167.232.0/24', 'closed']);
    const c = e.ok(['run', '-d', '--network', 'closed', 'busybox:test', 'sleep', '100']).stdout.trim();
    const d = e.ok(['run', '-d', '--network', 'closed', 'busybox:test', 'sleep', '100']).stdout.trim();
    assert.match(e.ok(['exec', c, 'ping', '-c', '1', '-W', '5', addressOf(d)]).stdout, /1 packets received/);
    assert.equal(e.ok(['exec', c, 'ip', 'route']).stdout, `10.167.232.0/24 dev eth0 scope link  src ${addressOf(c)} \n`);
    assert.equal(firewallRules().includes('10.167.232.'), false, 'no forwarding or masquerade for an internal network');
    assert.equal(JSON.parse(e.ok(['network', 'inspect', 'closed']).stdout)[0].Internal, true);
    e.ok(['rm', '-f', a, b, c, d]);
    e.ok(['network', 'rm', 'closed']);
  });

  test('on a user network containers resolve each other by name and alias; the default network has no names', () => {
    const a = e.ok(['run', '-d', '--name', 'alpha', '--network', 'testnet', 'busybox:test', 'sleep', '100']).stdout.trim();
    const b = e
      .ok(['run', '-d', '--name', 'beta', '--network-alias', 'db', '--network', 'testnet', 'busybox:test', 'sleep', '100'])
      .stdout.trim();
    const addressOfB = inspect(e, b).NetworkSettings.IPAddress as string;
    assert.deepEqual(inspect(e, b).NetworkSettings.Networks.testnet.Aliases, ['beta', b, 'db']);
    assert.match(e.ok(['exec', a, 'cat', '/etc/resolv.conf']).stdout, /^nameserver 10\.167\.231\.1$/m);
    /* absolute names (a final dot): no search domain of the host's is tried, so the DNS
     * server answers itself and forwards nothing off this host */
    for (const name of ['beta.', 'db.']) {
      assert.match(e.ok(['exec', a, 'nslookup', name]).stdout, new RegExp(`Address: ${addressOfB.replace(/\./g, '\\.')}$`, 'm'));
      assert.match(e.ok(['exec', a, 'ping', '-c', '1', '-W', '5', name]).stdout, /1 packets received/);
    }
    const onDefault = e.ok(['run', '-d', 'busybox:test', 'sleep', '100']).stdout.trim();
    assert.doesNotMatch(e.ok(['exec', onDefault, 'cat', '/etc/resolv.conf']).stdout, /nameserver 10\.166\./);
    const refused = e.run(['create', '--network', 'none', '--network-alias', 'x', 'busybox:test', 'true']);
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, /--network-alias: needs a network/);
    e.ok(['rm', '-f', a, b, onDefault]);
  });

  test('a container whose monitor was killed (no cleanup ran) still has its network removed by rm -f', () => {
    const id = e.ok(['run', '-d', '--network', 'testnet', '-p', `127.0.0.1:${PORT + 4}:80`, 'busybox:test', ...HTTPD]).stdout.trim();
    const record = JSON.parse(readFileSync(join(e.root, 'containers', id, 'container.json'), 'utf8'));
    const address: string = record.NetworkSettings.IPAddress;
    const veth = hostVethIndex(e, id);
    process.kill(record.Monitor.Pid, 'SIGKILL');
    process.kill(record.State.Pid, 'SIGKILL');
    e.ok(['rm', '-f', id]);
    assert.deepEqual(networkLeftovers(e, id, address, veth), []);
    /* its address and port are free: the same port publishes again */
    const again = e
      .ok(['run', '-d', '--network', 'testnet', '-p', `127.0.0.1:${PORT + 4}:80`, 'busybox:test', 'sleep', '100'])
      .stdout.trim();
    e.ok(['rm', '-f', again]);
  });

  test('--ip gives the address asked for; one in use, outside the subnet or without a network is refused', () => {
    const id = e
      .ok(['run', '-d', '--name', 'fixed', '--network', 'testnet', '--ip', '10.167.231.200', 'busybox:test', 'sleep', '100'])
      .stdout.trim();
    assert.equal(inspect(e, id).NetworkSettings.IPAddress, '10.167.231.200');
    assert.match(e.ok(['exec', id, 'ip', '-o', '-4', 'addr', 'show', 'eth0']).stdout, /inet 10\.167\.231\.200\/24/);
    for (const [args, pattern] of [
      [['--network', 'testnet', '--ip', '10.167.231.200'], /--ip 10\.167\.231\.200: in use by container fixed/],
      [['--network', 'testnet', '--ip', '10.167.99.5'], /not a host address of network testnet/],
      [['--network', 'testnet', '--ip', '10.167.231.1'], /gateway/],
      [['--network', 'none', '--ip', '10.167.231.9'], /--ip: needs a network/],
    ] as const) {
      const r = e.run(['create', ...args, 'busybox:test', 'true']);
      assert.equal(r.code, 125, args.join(' '));
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
    assert.equal(e.ok(['ps', '-aq']).stdout, `${id}\n`);
    e.ok(['rm', '-f', id]);
  });

  test('-P publishes the exposed ports on free host ports; --dns and --add-host are written to the etc files', async () => {
    const id = e
      .ok(['run', '-d', '-P', '--expose', '80', '--network', 'testnet', '--add-host', 'db.local:10.167.231.77', 'busybox:test', ...HTTPD])
      .stdout.trim();
    const m = /^80\/tcp -> 0\.0\.0\.0:(\d+)\n$/.exec(e.ok(['port', id]).stdout);
    assert.ok(m);
    assert.equal(await get(`http://127.0.0.1:${m[1]}/`), `hello from ${id}\n`);
    assert.match(e.ok(['exec', id, 'cat', '/etc/hosts']).stdout, /^10\.167\.231\.77\tdb\.local$/m);
    /* on a user network the network's server stays the nameserver; --dns is where it forwards */
    const onNet = e.ok(['run', '-d', '--network', 'testnet', '--dns', '10.167.231.53', 'busybox:test', 'sleep', '100']).stdout.trim();
    assert.match(e.ok(['exec', onNet, 'cat', '/etc/resolv.conf']).stdout, /^nameserver 10\.167\.231\.1$/m);
    const onDefault = e.ok(['run', '-d', '--dns', '10.166.0.53', 'busybox:test', 'sleep', '100']).stdout.trim();
    assert.match(e.ok(['exec', onDefault, 'cat', '/etc/resolv.conf']).stdout, /^nameserver 10\.166\.0\.53\n(?!.*nameserver)/s);
    for (const [flag, pattern] of [
      [['--dns', 'dns.example'], /--dns "dns.example" is not an IP address/],
      [['--add-host', 'nohost'], /--add-host "nohost" must be NAME:ADDRESS/],
      [['--expose', '80/sctp'], /--expose "80\/sctp"/],
    ] as const) {
      const r = e.run(['create', ...flag, 'busybox:test', 'true']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, pattern);
    }
    e.ok(['rm', '-f', id, onNet, onDefault]);
  });

  test('network rm and prune remove the networks no container is on', () => {
    e.ok(['network', 'create', 'spare']);
    const [spare] = JSON.parse(e.ok(['network', 'inspect', 'spare']).stdout);
    assert.match(spare.IPAM.Config[0].Subnet, /^10\.167\.\d+\.0\/24$/);
    const id = e.ok(['create', '--network', 'testnet', 'busybox:test', 'true']).stdout.trim();
    assert.equal(e.ok(['network', 'prune']).stdout, 'Deleted Networks:\nspare\n');
    assert.match(e.ok(['network', 'ls']).stdout, /testnet/);
    e.ok(['rm', '-f', id]);
    assert.equal(e.ok(['network', 'rm', 'testnet']).stdout, 'testnet\n');
    assert.equal(e.ok(['network', 'ls', '-q']).stdout.trim().split('\n').length, 1);
    e.ok(['network', 'create', '--subnet', SUBNET, 'testnet']);
  });
});
