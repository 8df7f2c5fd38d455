import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TestEngine, importBusybox, makeTestEngine, removeTestEngine } from '../helpers/engine.js';
import { HTTPD, get, inspect, listen } from '../helpers/network.js';

/* Traffic in these tests goes only to 127.0.0.1 and to the tests' own containers. */

const SUBNET = '10.167.253.0/24';
const PORT = 18300;

/** The leases (addresses, ports) the host-wide file holds for these containers. */
function leasesOf(ids: string[]): string[] {
  let text = '';
  try {
    text = readFileSync('/run/raind-networks/leases.json', 'utf8');
  } catch {
    return [];
  }
  return ids.filter((id) => text.includes(id));
}

/** fn on every item, `width` at a time. */
async function inBatches<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

describe('raind networks: --ip-range, host port ranges, 50 containers on raind0', () => {
  let e: TestEngine;
  before(() => {
    e = makeTestEngine('raind-network-ipam-');
    importBusybox(e);
  });
  after(() => {
    for (const id of e.run(['ps', '-aq']).stdout.split('\n').filter(Boolean)) e.run(['rm', '-f', id]);
    e.run(['network', 'rm', 'ipam-net', 'v6-net', 'v6-dual']);
    removeTestEngine(e);
  });

  test('--ip-range: addresses are handed out from the range only; --ip may be elsewhere in the subnet', () => {
    e.ok(['network', 'create', '--subnet', SUBNET, '--ip-range', '10.167.253.128/30', 'ipam-net']);
    const [net] = JSON.parse(e.ok(['network', 'inspect', 'ipam-net']).stdout);
    assert.deepEqual(net.IPAM.Config, [{ Subnet: SUBNET, Gateway: '10.167.253.1', IPRange: '10.167.253.128/30' }]);
    const ids = [0, 1, 2, 3].map(() => e.ok(['run', '-d', '--network', 'ipam-net', 'busybox:test', 'sleep', '1000']).stdout.trim());
    const addresses = ids.map((id) => inspect(e, id).NetworkSettings.IPAddress as string).sort();
    assert.deepEqual(addresses, ['10.167.253.128', '10.167.253.129', '10.167.253.130', '10.167.253.131']);
    /* the range is full: one more is refused, naming it, and leaves nothing */
    const before = e.ok(['ps', '-aq']).stdout;
    const full = e.run(['run', '-d', '--network', 'ipam-net', 'busybox:test', 'sleep', '1000']);
    assert.equal(full.code, 125);
    assert.match(full.stderr, /^raind: network ipam-net: no free address left in 10\.167\.253\.128\/30\n$/);
    assert.equal(e.ok(['ps', '-aq']).stdout, before);
    const fixed = e.ok(['run', '-d', '--network', 'ipam-net', '--ip', '10.167.253.5', 'busybox:test', 'sleep', '1000']).stdout.trim();
    assert.equal(inspect(e, fixed).NetworkSettings.IPAddress, '10.167.253.5');
    e.ok(['rm', '-f', ...ids, fixed]);
    e.ok(['network', 'rm', 'ipam-net']);

    for (const [args, pattern] of [
      [['--ip-range', '10.167.253.0/25', 'bad-range'], /^raind: --ip-range needs --subnet\n$/],
      [['--subnet', SUBNET, '--ip-range', '10.167.254.0/25', 'bad-range'], /^raind: --ip-range 10\.167\.254\.0\/25: not inside --subnet/],
      [['--subnet', SUBNET, '--ip-range', '10.167.0.0/16', 'bad-range'], /^raind: --ip-range 10\.167\.0\.0\/16: not inside --subnet/],
      [['--subnet', SUBNET, '--ip-range', 'half', 'bad-range'], /^raind: --ip-range: "half" is not an IPv4 subnet/],
    ] as const) {
      const r = e.run(['network', 'create', ...args]);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, pattern);
    }
    assert.equal(e.ok(['network', 'ls', '-q']).stdout.trim().split('\n').length, 1);
  });

  test('-p IP:HOSTRANGE:CTR publishes on the first free port of the range', async () => {
    const holder = await listen(PORT, '127.0.0.1');
    try {
      const a = e.ok(['run', '-d', '-p', `127.0.0.1:${PORT}-${PORT + 5}:80`, 'busybox:test', ...HTTPD]).stdout.trim();
      const b = e.ok(['run', '-d', '-p', `127.0.0.1:${PORT}-${PORT + 5}:80`, 'busybox:test', ...HTTPD]).stdout.trim();
      assert.equal(e.ok(['port', a, '80']).stdout, `127.0.0.1:${PORT + 1}\n`);
      assert.equal(e.ok(['port', b, '80']).stdout, `127.0.0.1:${PORT + 2}\n`);
      assert.deepEqual(inspect(e, a).HostConfig.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: `${PORT}-${PORT + 5}` }] });
      assert.equal(await get(`http://127.0.0.1:${PORT + 1}/`), `hello from ${a}\n`);
      assert.equal(await get(`http://127.0.0.1:${PORT + 2}/`), `hello from ${b}\n`);
      /* a range with no free port left is refused, naming it */
      const c = e.run(['run', '-d', '-p', `127.0.0.1:${PORT}-${PORT + 2}:80`, 'busybox:test', ...HTTPD]);
      assert.equal(c.code, 125);
      assert.match(
        c.stderr,
        new RegExp(`^raind: -p 127\\.0\\.0\\.1:${PORT}-${PORT + 2}:80/tcp: every host port of ${PORT}-${PORT + 2} is in use\\n$`),
      );
      e.ok(['rm', '-f', a, b]);
      for (const port of [PORT + 1, PORT + 2]) (await listen(port, '127.0.0.1')).close();
    } finally {
      holder.close();
    }
  });

  test('--ipv6 with an IPv6 --subnet: containers get an address of it too, that the host reaches over the bridge', async () => {
    e.ok(['network', 'create', '--ipv6', '--subnet', 'fd00:167:254::/64', 'v6-net']);
    const [net] = JSON.parse(e.ok(['network', 'inspect', 'v6-net']).stdout);
    assert.equal(net.EnableIPv6, true);
    assert.equal(net.IPAM.Config.length, 2);
    assert.match(net.IPAM.Config[0].Subnet, /^10\.167\.\d+\.0\/24$/);
    assert.deepEqual(net.IPAM.Config[1], { Subnet: 'fd00:167:254::/64', Gateway: 'fd00:167:254::1' });
    const id = e.ok(['run', '-d', '--network', 'v6-net', 'busybox:test', ...HTTPD]).stdout.trim();
    const settings = inspect(e, id).NetworkSettings;
    const endpoint = settings.Networks['v6-net'];
    assert.match(endpoint.GlobalIPv6Address, /^fd00:167:254::[0-9a-f]+$/);
    assert.equal(endpoint.GlobalIPv6PrefixLen, 64);
    assert.equal(endpoint.IPv6Gateway, 'fd00:167:254::1');
    assert.equal(settings.GlobalIPv6Address, endpoint.GlobalIPv6Address);
    assert.match(endpoint.IPAddress, /^10\.167\.\d+\.\d+$/);
    assert.match(
      e.ok(['exec', id, 'ip', '-o', '-6', 'addr', 'show', 'eth0']).stdout,
      new RegExp(`inet6 ${endpoint.GlobalIPv6Address}/64 `),
    );
    /* the host reaches it over the network's bridge, by its IPv6 address */
    assert.equal(await get(`http://[${endpoint.GlobalIPv6Address}]/`), `hello from ${id}\n`);

    /* dual stack with both subnets given */
    e.ok(['network', 'create', '--ipv6', '--subnet', '10.167.254.0/24', '--subnet', 'fd00:167:255::/64', 'v6-dual']);
    const dual = e.ok(['run', '-d', '--network', 'v6-dual', 'busybox:test', 'sleep', '1000']).stdout.trim();
    const dualEndpoint = inspect(e, dual).NetworkSettings.Networks['v6-dual'];
    assert.match(dualEndpoint.IPAddress, /^10\.167\.254\.\d+$/);
    assert.match(dualEndpoint.GlobalIPv6Address, /^fd00:167:255::[0-9a-f]+$/);
    const [dualNet] = JSON.parse(e.ok(['network', 'inspect', 'v6-dual']).stdout);
    assert.equal(dualNet.Containers[dual].IPv6Address, `${dualEndpoint.GlobalIPv6Address}/64`);

    /* network connect gives a container of the default network an IPv6 address too */
    const plain = e.ok(['run', '-d', 'busybox:test', 'sleep', '1000']).stdout.trim();
    e.ok(['network', 'connect', 'v6-net', plain]);
    const connected = inspect(e, plain).NetworkSettings.Networks['v6-net'];
    assert.match(connected.GlobalIPv6Address, /^fd00:167:254::[0-9a-f]+$/);
    assert.match(
      e.ok(['exec', plain, 'ip', '-o', '-6', 'addr', 'show', 'eth1']).stdout,
      new RegExp(`inet6 ${connected.GlobalIPv6Address}/64 `),
    );
    e.ok(['rm', '-f', plain]);
    assert.deepEqual(leasesOf([plain]), []);

    for (const [args, pattern] of [
      [['--subnet', 'fd00:167:256::/64', 'bad-v6'], /^raind: --subnet fd00:167:256::\/64: an IPv6 subnet needs --ipv6\n$/],
      [['--ipv6', 'bad-v6'], /^raind: --ipv6 needs an IPv6 --subnet, such as fd00:1::\/64\n$/],
      [['--ipv6', '--subnet', 'fd00:167:254:0:8000::/65', 'bad-v6'], /^raind: --subnet fd00:167:254:0:8000::\/65 overlaps network v6-net/],
      [['--ipv6', '--subnet', 'fd00:167:256::1/64', 'bad-v6'], /^raind: --subnet: "fd00:167:256::1\/64" has host bits set\n$/],
      [['--ipv6', '--subnet', 'fd00:zz::/64', 'bad-v6'], /^raind: --subnet: "fd00:zz::\/64" is not an IPv6 subnet/],
    ] as const) {
      const r = e.run(['network', 'create', ...args]);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, pattern);
    }
    e.ok(['rm', '-f', id, dual]);
    assert.deepEqual(leasesOf([id, dual]), []);
    e.ok(['network', 'rm', 'v6-net', 'v6-dual']);
  });

  test('50 containers run at once on raind0: no address twice; rm releases every address and namespace', async () => {
    const ids = await inBatches(
      Array.from({ length: 50 }, (_, i) => i),
      10,
      () => e.okAsync(['run', '-d', 'busybox:test', 'sleep', '1000']),
    );
    const addresses = ids.map((id) => inspect(e, id).NetworkSettings.Networks.raind.IPAddress as string);
    for (const a of addresses) assert.match(a, /^10\.166\.\d+\.\d+$/);
    assert.equal(new Set(addresses).size, 50, addresses.join(' '));
    assert.equal(leasesOf(ids).length, 50);
    assert.equal(readdirSync(join(e.runRoot, 'netns')).length, 50);
    await inBatches(ids, 10, (id) => e.okAsync(['rm', '-f', id]));
    assert.deepEqual(leasesOf(ids), []);
    assert.deepEqual(readdirSync(join(e.runRoot, 'netns')), []);
    assert.equal(e.ok(['ps', '-aq']).stdout, '');
    /* raind0 stays up for the next container, held by its tap port, as docker0 stays */
    if (existsSync('/dev/net/tun')) {
      assert.ok(existsSync('/sys/class/net/raind0'));
      assert.equal(basename(readlinkSync('/sys/class/net/raind0-keep/master')), 'raind0');
    }
  });
});
