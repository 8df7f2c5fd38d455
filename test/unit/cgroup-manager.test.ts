import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { describe, test } from 'node:test';
import type { CgroupDir } from '../../src/linux/cgroups/container-cgroup.js';
import { parseHierarchies, type Hierarchy } from '../../src/linux/cgroups/hierarchy.js';
import { cgroupManager, cgroupVersion } from '../../src/linux/cgroups/manager.js';
import { V1CgroupManager } from '../../src/linux/cgroups/v1/driver.js';
import { V2CgroupManager } from '../../src/linux/cgroups/v2/driver.js';
import { readResources } from '../../src/oci/resources.js';

/** The cgroup driver is chosen from the hierarchies mountinfo shows, without touching any
 * cgroup: these are the mountinfo lines of the three kinds of host. */

/** legacy: every controller in a v1 hierarchy, no cgroup2 */
const PURE_V1 = `
25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct
30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
31 25 0:28 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,freezer
32 25 0:29 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpuset,clone_children
33 25 0:30 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,pids
34 25 0:31 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,devices
`;

/** hybrid: the v1 controllers, and a cgroup2 mount without controllers (as on these machines) */
const HYBRID = `
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

/** pure v2: the one cgroup2 hierarchy; a container's own cgroup bind-mounted elsewhere is no
 * hierarchy of the host */
const PURE_V2 = `
24 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
88 30 0:22 /system.slice/app.service /srv/app/cgroup rw,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
`;

/** systemd's hybrid layout with every controller moved to cgroup2: only name=systemd is v1 */
const NAMED_V1_BESIDE_V2 = `
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
`;

function dirsOf(hierarchies: Hierarchy[], path = '/droplet/c1'): CgroupDir[] {
  return hierarchies.map((hierarchy) => ({ hierarchy, path, dir: posix.join(hierarchy.mountpoint, path), owned: false }));
}

const managerFor = (mountinfo: string) => cgroupManager(dirsOf(parseHierarchies(mountinfo)));

describe('the cgroup manager factory', () => {
  test('mountinfo: each hierarchy once, with its controllers; no bind mounts of sub-cgroups', () => {
    assert.deepEqual(parseHierarchies(PURE_V2), [{ version: 2, mountpoint: '/sys/fs/cgroup', key: '' }]);
    assert.deepEqual(
      parseHierarchies(PURE_V1).map((h) => h.key),
      ['name=systemd', 'cpu,cpuacct', 'memory', 'freezer', 'cpuset', 'pids', 'devices'],
    );
    assert.deepEqual(
      parseHierarchies(HYBRID)
        .map((h) => `${h.version}:${h.mountpoint}`)
        .slice(-2),
      ['1:/sys/fs/cgroup/systemd', '2:/sys/fs/cgroup/unified'],
    );
  });

  test('a pure v1 host gets the v1 driver', () => {
    assert.equal(cgroupVersion(parseHierarchies(PURE_V1)), 1);
    assert.ok(managerFor(PURE_V1) instanceof V1CgroupManager);
  });

  test('a hybrid host gets the v1 driver: its cgroup2 mount has no controllers', () => {
    assert.equal(cgroupVersion(parseHierarchies(HYBRID)), 1);
    assert.ok(managerFor(HYBRID) instanceof V1CgroupManager);
  });

  test('a pure v2 host gets the v2 driver, also beside a v1 hierarchy without controllers', () => {
    assert.equal(cgroupVersion(parseHierarchies(PURE_V2)), 2);
    assert.ok(managerFor(PURE_V2) instanceof V2CgroupManager);
    assert.equal(cgroupVersion(parseHierarchies(NAMED_V1_BESIDE_V2)), 2);
    assert.ok(managerFor(NAMED_V1_BESIDE_V2) instanceof V2CgroupManager);
  });

  test('a host without cgroups gets the v1 driver, which refuses any resource', () => {
    assert.equal(cgroupVersion([]), undefined);
    const m = cgroupManager([]);
    assert.ok(m instanceof V1CgroupManager);
    m.applyResources(readResources({}, 'linux.resources.'), []);
    assert.throws(
      () => m.applyResources(readResources({ pids: { limit: 10 } }, 'linux.resources.'), []),
      (err: Error) => err.message === 'linux.resources: this host has no cgroup hierarchy mounted',
    );
    assert.throws(
      () => m.freeze(),
      (err: Error) => err.message === 'this host has no cgroup freezer (no v1 freezer controller, no cgroup2 mount)',
    );
    assert.equal(m.isPaused(), false);
    assert.deepEqual(m.pids(), []);
    assert.deepEqual(m.cgroupfsLayout(), { tmpfs: false, mounts: [] });
  });
});

describe("the container's cgroup mount follows the driver", () => {
  test('pure v2: one cgroup2 mount on the mount point', () => {
    assert.deepEqual(managerFor(PURE_V2).cgroupfsLayout(), {
      tmpfs: false,
      mounts: [{ name: '', fstype: 'cgroup2', data: '', dir: '/sys/fs/cgroup/droplet/c1' }],
    });
  });

  test('hybrid: a tmpfs with each v1 hierarchy and the cgroup2 mount below it', () => {
    const layout = managerFor(HYBRID).cgroupfsLayout();
    assert.equal(layout.tmpfs, true);
    assert.deepEqual(
      layout.mounts.map((m) => [m.name, m.fstype, m.data]),
      [
        ['cpu', 'cgroup', 'cpu'],
        ['cpuacct', 'cgroup', 'cpuacct'],
        ['memory', 'cgroup', 'memory'],
        ['freezer', 'cgroup', 'freezer'],
        ['systemd', 'cgroup', 'name=systemd'],
        ['unified', 'cgroup2', ''],
      ],
    );
  });

  test('pure v1 and named v1 beside cgroup2: a tmpfs too', () => {
    assert.equal(managerFor(PURE_V1).cgroupfsLayout().tmpfs, true);
    assert.deepEqual(
      managerFor(NAMED_V1_BESIDE_V2)
        .cgroupfsLayout()
        .mounts.map((m) => m.fstype),
      ['cgroup', 'cgroup2'],
    );
  });
});
