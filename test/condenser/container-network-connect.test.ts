import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TestEngine, importBusybox, makeTestEngine, removeTestEngine } from '../helpers/engine.js';
import { HTTPD, get, inspect, listen } from '../helpers/network.js';

const sleepMs = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/* Traffic in these tests goes only between the tests' containers, on their own bridges. */

const SUBNET_A = '10.167.251.0/24';
const SUBNET_B = '10.167.252.0/24';
const PORT = 18350;

/** The addresses and ports the host-wide leases hold for these containers. */
function leasesOf(ids: string[]): string[] {
  let state: { addresses: Record<string, Record<string, { container: string }>>; ports: Record<string, { container: string }> };
  try {
    state = JSON.parse(readFileSync('/run/raind-networks/leases.json', 'utf8'));
  } catch {
    return [];
  }
  const held: string[] = [];
  for (const [bridge, used] of Object.entries(state.addresses))
    for (const [addr, lease] of Object.entries(used)) if (ids.includes(lease.container)) held.push(`${bridge} ${addr}`);
  for (const [key, lease] of Object.entries(state.ports)) if (ids.includes(lease.container)) held.push(key);
  return held;
}

/** aardvark-dns's entries for a network (netavark names its file after the network id). */
const dnsEntries = (networkId: string) => readFileSync(join('/run/raind-networks/netavark/aardvark-dns', networkId), 'utf8');

const addressOn = (e: TestEngine, id: string, iface: string) =>
  /inet (\S+)\//.exec(e.ok(['exec', id, 'ip', '-o', '-4', 'addr', 'show', iface]).stdout)?.[1];

describe('raind networks: network connect and disconnect', () => {
  let e: TestEngine;
  before(() => {
    e = makeTestEngine('raind-network-connect-');
    importBusybox(e);
    e.ok(['network', 'create', '--subnet', SUBNET_A, 'conn-a-net']);
    e.ok(['network', 'create', '--subnet', SUBNET_B, 'conn-b-net']);
  });
  after(() => {
    for (const id of e.run(['ps', '-aq']).stdout.split('\n').filter(Boolean)) e.run(['rm', '-f', id]);
    e.run(['network', 'rm', 'conn-a-net', 'conn-b-net']);
    removeTestEngine(e);
  });

  test('a running container joins a second network at once, names resolve on both, disconnect undoes it', () => {
    const a = e.ok(['run', '-d', '--name', 'conn-a', '--network', 'conn-a-net', 'busybox:test', ...HTTPD]).stdout.trim();
    const b = e.ok(['run', '-d', '--name', 'conn-b', '--network', 'conn-b-net', 'busybox:test', ...HTTPD]).stdout.trim();
    const ids = [a, b];
    e.ok(['network', 'connect', '--alias', 'bee', 'conn-a-net', 'conn-b']);

    const networks = inspect(e, b).NetworkSettings.Networks;
    assert.deepEqual(Object.keys(networks).sort(), ['conn-a-net', 'conn-b-net']);
    assert.match(networks['conn-a-net'].IPAddress, /^10\.167\.251\.\d+$/);
    assert.equal(networks['conn-a-net'].Gateway, '10.167.251.1');
    assert.ok(networks['conn-a-net'].Aliases.includes('bee'));
    assert.match(networks['conn-b-net'].IPAddress, /^10\.167\.252\.\d+$/);
    /* both interfaces are there, each with its network's address */
    assert.equal(addressOn(e, b, 'eth0'), networks['conn-b-net'].IPAddress);
    assert.equal(addressOn(e, b, 'eth1'), networks['conn-a-net'].IPAddress);
    const [netA] = JSON.parse(e.ok(['network', 'inspect', 'conn-a-net']).stdout);
    assert.deepEqual(Object.keys(netA.Containers).sort(), [a, b].sort());

    /* names across the networks: b finds a, a finds b by its name and its alias */
    assert.equal(e.ok(['exec', b, 'wget', '-qO-', 'http://conn-a/']).stdout, `hello from ${a}\n`);
    assert.equal(e.ok(['exec', a, 'wget', '-qO-', 'http://bee/']).stdout, `hello from ${b}\n`);
    assert.equal(e.ok(['exec', a, 'wget', '-qO-', 'http://conn-b/']).stdout, `hello from ${b}\n`);

    /* a container on the default network, connected to a user one, is told its DNS server */
    const d = e.ok(['run', '-d', '--name', 'conn-d', 'busybox:test', 'sleep', '1000']).stdout.trim();
    ids.push(d);
    e.ok(['network', 'connect', 'conn-a-net', d]);
    assert.match(e.ok(['exec', d, 'cat', '/etc/resolv.conf']).stdout, /^nameserver 10\.167\.251\.1$/m);
    assert.equal(e.ok(['exec', d, 'wget', '-qO-', 'http://conn-a/']).stdout, `hello from ${a}\n`);

    const rm = e.run(['network', 'rm', 'conn-a-net']);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /in use by containers (conn-a|conn-b|conn-d), (conn-a|conn-b|conn-d), (conn-a|conn-b|conn-d)/);

    e.ok(['network', 'disconnect', 'conn-a-net', 'conn-b']);
    assert.deepEqual(Object.keys(inspect(e, b).NetworkSettings.Networks), ['conn-b-net']);
    assert.equal(e.run(['exec', b, 'ip', 'link', 'show', 'eth1']).code !== 0, true);
    /* the network's DNS server no longer knows it (asked of its file, not with a query that
     * would be forwarded out of this host) */
    assert.ok(!dnsEntries(netA.Id).includes(b));
    assert.ok(dnsEntries(netA.Id).includes(a));
    assert.equal(e.ok(['exec', b, 'wget', '-qO-', `http://${inspect(e, a).NetworkSettings.IPAddress}/`]).code, 0, 'eth0 is still up');
    assert.deepEqual(
      leasesOf([b]).filter((l) => l.includes('10.167.251.')),
      [],
    );

    e.ok(['rm', '-f', ...ids]);
    assert.deepEqual(leasesOf(ids), []);
    assert.deepEqual(readdirSync(join(e.runRoot, 'netns')), []);
  });

  test('a stopped container is connected at its next start; a created one at once, with --ip; rm releases all', () => {
    const s = e.ok(['run', '-d', '--name', 'conn-s', '--network', 'conn-b-net', 'busybox:test', 'sleep', '1000']).stdout.trim();
    e.ok(['stop', '-t', '0', s]);
    /* conmon's cleanup tears its network down a moment after the exit */
    for (let i = 0; i < 100 && inspect(e, s).NetworkSettings.IPAddress !== ''; i++) sleepMs(50);
    e.ok(['network', 'connect', '--ip', '10.167.251.77', 'conn-a-net', s]);
    const stopped = inspect(e, s).NetworkSettings.Networks['conn-a-net'];
    assert.equal(stopped.IPAddress, '');
    assert.equal(stopped.NetworkID, JSON.parse(e.ok(['network', 'inspect', 'conn-a-net']).stdout)[0].Id);
    e.ok(['start', s]);
    assert.equal(inspect(e, s).NetworkSettings.Networks['conn-a-net'].IPAddress, '10.167.251.77');
    assert.equal(addressOn(e, s, 'eth1'), '10.167.251.77');

    const c = e.ok(['create', '--name', 'conn-c', 'busybox:test', 'sleep', '1000']).stdout.trim();
    e.ok(['network', 'connect', 'conn-b-net', c]);
    e.ok(['network', 'connect', 'conn-a-net', c]);
    const created = inspect(e, c).NetworkSettings.Networks;
    assert.deepEqual(Object.keys(created).sort(), ['conn-a-net', 'conn-b-net', 'raind']);
    e.ok(['start', c]);
    assert.equal(addressOn(e, c, 'eth1'), created['conn-b-net'].IPAddress);
    assert.equal(addressOn(e, c, 'eth2'), created['conn-a-net'].IPAddress);
    /* the --ip of the other is refused to this one */
    const clash = e.run(['network', 'disconnect', 'conn-a-net', c]);
    assert.equal(clash.code, 0, clash.stderr);
    const taken = e.run(['network', 'connect', '--ip', '10.167.251.77', 'conn-a-net', c]);
    assert.equal(taken.code, 125);
    assert.match(taken.stderr, /^raind: --ip 10\.167\.251\.77: in use by container conn-s\n$/);
    assert.equal(inspect(e, c).NetworkSettings.Networks['conn-a-net'], undefined);
    assert.equal(e.run(['exec', c, 'ip', 'link', 'show', 'eth2']).code !== 0, true);

    e.ok(['rm', '-f', s, c]);
    assert.deepEqual(leasesOf([s, c]), []);
    assert.deepEqual(readdirSync(join(e.runRoot, 'netns')), []);
    e.ok(['network', 'rm', 'conn-a-net']);
    e.ok(['network', 'create', '--subnet', SUBNET_A, 'conn-a-net']);
  });

  test('the network a container was created on can be disconnected, ports and all, and connected again', async () => {
    const p = e
      .ok(['run', '-d', '--name', 'conn-p', '--network', 'conn-b-net', '-p', `127.0.0.1:${PORT}:80`, 'busybox:test', ...HTTPD])
      .stdout.trim();
    assert.equal(await get(`http://127.0.0.1:${PORT}/`), `hello from ${p}\n`);
    e.ok(['network', 'disconnect', 'conn-b-net', 'conn-p']);
    let settings = inspect(e, p).NetworkSettings;
    assert.deepEqual(settings.Networks, {});
    assert.deepEqual(settings.Ports, {});
    assert.equal(settings.IPAddress, '');
    assert.notEqual(e.run(['exec', p, 'ip', 'link', 'show', 'eth0']).code, 0);
    assert.deepEqual(leasesOf([p]), []);
    (await listen(PORT, '127.0.0.1')).close();
    const [net] = JSON.parse(e.ok(['network', 'inspect', 'conn-b-net']).stdout);
    assert.equal(net.Containers[p], undefined);
    const again = e.run(['network', 'disconnect', 'conn-b-net', 'conn-p']);
    assert.equal(again.code, 125);
    assert.match(again.stderr, /^raind: network disconnect: container conn-p is not connected to network conn-b-net\n$/);

    e.ok(['network', 'connect', 'conn-b-net', 'conn-p']);
    settings = inspect(e, p).NetworkSettings;
    assert.match(settings.Networks['conn-b-net'].IPAddress, /^10\.167\.252\.\d+$/);
    assert.equal(settings.IPAddress, settings.Networks['conn-b-net'].IPAddress);
    assert.deepEqual(settings.Ports, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(PORT) }] });
    assert.equal(addressOn(e, p, 'eth0'), settings.IPAddress);
    assert.equal(await get(`http://127.0.0.1:${PORT}/`), `hello from ${p}\n`);

    /* disconnected, it stays so across a restart: only a loopback */
    e.ok(['network', 'disconnect', 'conn-b-net', 'conn-p']);
    e.ok(['restart', '-t', '0', 'conn-p']);
    assert.deepEqual(inspect(e, p).NetworkSettings.Networks, {});
    assert.equal(e.ok(['exec', p, 'ls', '/sys/class/net']).stdout, 'lo\n');
    e.ok(['network', 'connect', 'conn-a-net', 'conn-p']);
    assert.match(addressOn(e, p, 'eth1') ?? '', /^10\.167\.251\.\d+$/);
    e.ok(['rm', '-f', p]);
    assert.deepEqual(leasesOf([p]), []);
    assert.deepEqual(readdirSync(join(e.runRoot, 'netns')), []);
  });

  test('bad connects and disconnects are refused in one line, exit 125, changing nothing', () => {
    const w = e.ok(['run', '-d', '--name', 'conn-w', '--network', 'conn-b-net', 'busybox:test', 'sleep', '1000']).stdout.trim();
    const lone = e.ok(['run', '-d', '--name', 'conn-none', '--network', 'none', 'busybox:test', 'sleep', '1000']).stdout.trim();
    e.ok(['network', 'connect', 'conn-a-net', w]);
    const before = JSON.stringify(inspect(e, w));
    const leases = leasesOf([w, lone]);
    for (const [args, pattern] of [
      [['connect', 'no-such-net', 'conn-w'], /^raind: network no-such-net does not exist/],
      [['connect', 'conn-a-net', 'no-such-ctr'], /^raind: no such container: no-such-ctr\n$/],
      [['connect', '--ip', '10.167.9.9', 'conn-b-net', 'conn-none'], /^raind: network connect: container conn-none has --network none/],
      [['connect', 'conn-a-net', 'conn-w'], /^raind: network connect: container conn-w is already connected to network conn-a-net\n$/],
      [['connect', 'conn-b-net', 'conn-w'], /^raind: network connect: container conn-w is already connected to network conn-b-net\n$/],
      [['connect', '--ip', '10.167.9.9', 'raind', 'conn-w'], /^raind: --ip 10\.167\.9\.9: not a host address of network raind/],
      [['connect', '--alias', 'bad/alias', 'raind', 'conn-w'], /^raind: network connect: --alias "bad\/alias"/],
      [['disconnect', 'raind', 'conn-w'], /^raind: network disconnect: container conn-w is not connected to network raind\n$/],
      [['disconnect', 'conn-a-net', 'no-such-ctr'], /^raind: no such container: no-such-ctr\n$/],
      [['disconnect', 'no-such-net', 'conn-w'], /^raind: network no-such-net does not exist/],
    ] as const) {
      const r = e.run(['network', ...args]);
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.equal(JSON.stringify(inspect(e, w)), before);
    assert.deepEqual(leasesOf([w, lone]), leases);
    assert.equal(e.run(['exec', w, 'ip', 'link', 'show', 'eth2']).code !== 0, true);
    e.ok(['rm', '-f', w, lone]);
    assert.deepEqual(leasesOf([w, lone]), []);
  });
});
