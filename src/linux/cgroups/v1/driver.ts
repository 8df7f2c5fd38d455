import { UserError } from '../../../lib/errors.js';
import type { Resources } from '../../../oci/resources.js';
import type { DeviceRule } from '../../../oci/spec.js';
import { readKeyValues } from '../cgroup-file.js';
import { perHierarchyLayout, type CgroupfsLayout } from '../cgroupfs-layout.js';
import {
  claimNewCgroups,
  isOwn,
  makeCgroupDirs,
  ownedCgroupPids,
  ownedCgroupTrees,
  pidsUnder,
  placeInCgroups,
  refuseBusyCgroups,
  removeCgroups,
  type CgroupDir,
} from '../container-cgroup.js';
import { freeze as freezeTasks, freezerState, thaw as thawTasks, thawAll, type Freezer } from '../freezer.js';
import { v1Controllers } from '../hierarchy.js';
import type { CgroupManager, CgroupStats } from '../cgroup-manager.js';
import { killCgroup } from '../v2/kill.js';
import { applyUnified } from '../v2/resources.js';
import { initCpuset } from './cpuset.js';
import { applyV1DeviceRules } from './devices.js';
import { applyV1Resources, type DirOf } from './resources.js';
import { statsV1 } from './stats.js';

/** Legacy and hybrid hosts: each controller in a v1 hierarchy. On a hybrid host the cgroup2
 * mount beside them has no controllers: it takes only linux.resources.unified, and lends its
 * core files (its freezer where there is no v1 one, cgroup.kill, the process list). A host
 * with no hierarchy that carries a controller gets this driver too, and it refuses any
 * resource. */
export class V1CgroupManager implements CgroupManager {
  /** the container's directory in the v1 hierarchy that has a controller */
  private readonly dirOf: DirOf;
  /** the container's directory in a hybrid host's cgroup2 mount */
  private readonly unified: CgroupDir | undefined;
  private readonly hasControllers: boolean;

  constructor(readonly dirs: CgroupDir[]) {
    this.dirOf = (controller) => dirs.find((d) => d.hierarchy.version === 1 && v1Controllers(d.hierarchy).includes(controller))?.dir;
    this.unified = dirs.find((d) => d.hierarchy.version === 2);
    this.hasControllers = dirs.some((d) => d.hierarchy.version === 1 && v1Controllers(d.hierarchy).length > 0);
  }

  refuseBusy(): void {
    refuseBusyCgroups(this.dirs);
  }

  claimNew(): void {
    claimNewCgroups(this.dirs);
  }

  create(): boolean {
    return makeCgroupDirs(this.dirs, (d) => {
      if (d.hierarchy.version === 1 && d.hierarchy.key.split(',').includes('cpuset')) initCpuset(d);
    });
  }

  place(pid: number): void {
    placeInCgroups(this.dirs, pid);
  }

  applyResources(r: Resources, deviceNodes: DeviceRule[]): void {
    if (!this.hasControllers) {
      if (!isEmpty(r)) throw new UserError('linux.resources: this host has no cgroup hierarchy mounted');
      return;
    }
    if (r.devices.length) {
      const dir = this.dirOf('devices');
      if (!dir) throw new UserError('linux.resources.devices: this host has no cgroup v1 devices controller');
      applyV1DeviceRules(dir, r.devices, deviceNodes);
    }
    applyV1Resources(this.dirOf, r);
    if (Object.keys(r.unified).length) {
      if (!this.unified) throw new UserError('linux.resources.unified: this host has no cgroup2 mount');
      applyUnified(this.unified.dir, r.unified);
    }
  }

  update(r: Resources): void {
    this.applyResources({ ...r, devices: [] }, []);
  }

  pids(): number[] {
    const d = this.unified ?? this.dirs[0];
    return d ? pidsUnder(d.dir) : [];
  }

  ownedPids(): number[] {
    return ownedCgroupPids(this.dirs);
  }

  /** The v1 freezer controller; on a hybrid host without one, cgroup2's (runc does so too). */
  private freezer(): Freezer | undefined {
    const v1 = this.dirOf('freezer');
    if (v1) return { version: 1, dir: v1 };
    return this.unified ? { version: 2, dir: this.unified.dir } : undefined;
  }

  private requireFreezer(): Freezer {
    const f = this.freezer();
    if (!f) throw new UserError('this host has no cgroup freezer (no v1 freezer controller, no cgroup2 mount)');
    return f;
  }

  freeze(): void {
    freezeTasks(this.requireFreezer());
  }

  thaw(): void {
    thawTasks(this.requireFreezer());
  }

  isPaused(): boolean {
    const f = this.freezer();
    return !!f && freezerState(f) === 'frozen';
  }

  /** A v1 child cgroup stays frozen when its parent thaws: each one the container froze below
   * its own cgroups is thawed too, in the freezer hierarchy and in the cgroup2 mount. */
  thawForKill(): void {
    const f = this.freezer();
    const freezers: Freezer[] = f ? [f] : [];
    const v1 = this.dirs.filter((d) => d.hierarchy.version === 1 && d.dir === f?.dir);
    const v2 = this.unified ? [this.unified] : [];
    for (const dir of ownedCgroupTrees(v1)) if (dir !== f?.dir) freezers.push({ version: 1, dir });
    for (const dir of ownedCgroupTrees(v2)) if (dir !== f?.dir) freezers.push({ version: 2, dir });
    thawAll(freezers);
  }

  /** v1 has no cgroup.kill; a hybrid host's cgroup2 mount has, for the container's own cgroup. */
  kill(): void {
    if (this.unified && isOwn(this.unified)) killCgroup(this.unified.dir);
  }

  stats(): CgroupStats {
    return statsV1(this.dirOf);
  }

  /** "oom_kill" in memory.oom_control (Linux 4.13+). */
  oomKillCount(): number | undefined {
    const dir = this.dirOf('memory');
    return dir ? readKeyValues(dir, 'memory.oom_control').oom_kill : undefined;
  }

  remove(): void {
    removeCgroups(this.dirs);
  }

  cgroupfsLayout(): CgroupfsLayout {
    return this.dirs.length ? perHierarchyLayout(this.dirs) : { tmpfs: false, mounts: [] };
  }
}

function isEmpty(r: Resources): boolean {
  return (
    !r.devices.length &&
    !r.memory &&
    !r.cpu &&
    !r.pids &&
    !r.blockIO &&
    !r.hugepageLimits.length &&
    !r.network &&
    !Object.keys(r.rdma).length &&
    !Object.keys(r.unified).length
  );
}
