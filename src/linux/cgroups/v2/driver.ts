import type { Resources } from '../../../oci/resources.js';
import type { DeviceRule } from '../../../oci/spec.js';
import { readKeyValues } from '../cgroup-file.js';
import { perHierarchyLayout, singleHierarchyLayout, type CgroupfsLayout } from '../cgroupfs-layout.js';
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
import type { CgroupManager, CgroupStats } from '../cgroup-manager.js';
import { enableControllers } from './controllers.js';
import { attachDeviceFilter } from './device-filter.js';
import { killCgroup } from './kill.js';
import { applyV2Resources } from './resources.js';
import { statsV2 } from './stats.js';

/** Pure v2 hosts: every controller in the one cgroup2 hierarchy, the device rules a BPF
 * program attached to the container's cgroup. A named v1 hierarchy beside it (name=systemd)
 * carries no controller: the container only has a directory there. */
export class V2CgroupManager implements CgroupManager {
  /** the container's directory in the cgroup2 hierarchy */
  private readonly unified: CgroupDir;

  constructor(readonly dirs: CgroupDir[]) {
    this.unified = dirs.find((d) => d.hierarchy.version === 2)!;
  }

  refuseBusy(): void {
    refuseBusyCgroups(this.dirs);
  }

  claimNew(): void {
    claimNewCgroups(this.dirs);
  }

  create(): boolean {
    return makeCgroupDirs(this.dirs, (d) => {
      if (d === this.unified) enableControllers(d.hierarchy.mountpoint, d.path);
    });
  }

  place(pid: number): void {
    placeInCgroups(this.dirs, pid);
  }

  applyResources(r: Resources, deviceNodes: DeviceRule[]): void {
    applyV2Resources(this.unified.dir, r);
    if (r.devices.length) attachDeviceFilter(this.unified.dir, r.devices, deviceNodes);
  }

  update(r: Resources): void {
    this.applyResources({ ...r, devices: [] }, []);
  }

  pids(): number[] {
    return pidsUnder(this.unified.dir);
  }

  ownedPids(): number[] {
    return ownedCgroupPids(this.dirs);
  }

  private freezer(): Freezer {
    return { version: 2, dir: this.unified.dir };
  }

  freeze(): void {
    freezeTasks(this.freezer());
  }

  thaw(): void {
    thawTasks(this.freezer());
  }

  isPaused(): boolean {
    return freezerState(this.freezer()) === 'frozen';
  }

  /** The container's freezer, and each one the container froze below its own cgroup. */
  thawForKill(): void {
    const f = this.freezer();
    const freezers: Freezer[] = [f];
    for (const dir of ownedCgroupTrees([this.unified])) if (dir !== f.dir) freezers.push({ version: 2, dir });
    thawAll(freezers);
  }

  kill(): void {
    if (isOwn(this.unified)) killCgroup(this.unified.dir);
  }

  stats(): CgroupStats {
    return statsV2(this.unified.dir);
  }

  /** "oom_kill" in memory.events. */
  oomKillCount(): number | undefined {
    return readKeyValues(this.unified.dir, 'memory.events').oom_kill;
  }

  remove(): void {
    removeCgroups(this.dirs);
  }

  /** One cgroup2 mount; with named v1 hierarchies beside it, a tmpfs holding them all. */
  cgroupfsLayout(): CgroupfsLayout {
    return this.dirs.some((d) => d.hierarchy.version === 1) ? perHierarchyLayout(this.dirs) : singleHierarchyLayout(this.unified);
  }
}
