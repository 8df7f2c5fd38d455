import type { Resources } from '../../oci/resources.js';
import type { DeviceRule } from '../../oci/spec.js';
import type { CgroupfsLayout } from './cgroupfs-layout.js';
import type { CgroupDir } from './container-cgroup.js';
import type { statsV1 } from './v1/stats.js';
import type { statsV2 } from './v2/stats.js';

/** What droplet does with a container's cgroups, whichever cgroup version the host runs (as
 * crun's libcrun_cgroup_manager and youki's CgroupManager). A manager works on the
 * container's directory in each host hierarchy: the list state.json records. */
export interface CgroupManager {
  /** The container's directories, the same objects state.json holds: claimNew and create
   * mark in place which ones are the container's own. */
  readonly dirs: CgroupDir[];

  /** Refuses a cgroup that exists and holds processes: it belongs to someone else. */
  refuseBusy(): void;
  /** Marks the directories create is about to make as the container's own, before it makes
   * them: a create killed in between leaves a state that names every cgroup it may have made. */
  claimNew(): void;
  /** Makes the directories and readies them for a task (a v1 cpuset's cpus and mems, the v2
   * controllers). Returns whether a directory claimed as new existed after all, which
   * changes what the state must say. */
  create(): boolean;
  /** Moves a process into the container's cgroups. */
  place(pid: number): void;

  /** Applies every linux.resources field, or fails naming the field the host cannot apply.
   * `deviceNodes` are the allow rules for linux.devices. */
  applyResources(r: Resources, deviceNodes: DeviceRule[]): void;
  /** Changes the resources of a living container; its device rules stay as create set them. */
  update(r: Resources): void;

  /** The processes in the container's cgroup and the cgroups below it (every process, also in
   * a shared PID namespace), as `ps` shows them. */
  pids(): number[];
  /** The processes droplet may signal as the container's: those in the cgroups it made for
   * it, in any hierarchy (a process may have been moved in one of them). */
  ownedPids(): number[];

  /** Freezes every task and waits until they are; fails on a host without a freezer. */
  freeze(): void;
  thaw(): void;
  /** Frozen in the container's freezer: the status is "paused". */
  isPaused(): boolean;
  /** Before a kill: thaws the container, and whatever it froze below its own cgroups. */
  thawForKill(): void;
  /** Kills every task of the container's own cgroups at once, where the kernel can. */
  kill(): void;

  /** Resource usage in runc's `events --stats` shape. */
  stats(): CgroupStats;
  /** How many of the container's processes the OOM killer has killed; undefined without a
   * memory controller (or before the cgroup exists). */
  oomKillCount(): number | undefined;

  /** Removes the container's own directories with the cgroups it made below them. */
  remove(): void;
  /** How the container's cgroup mount shows the hierarchies. */
  cgroupfsLayout(): CgroupfsLayout;
}

export type CgroupStats = ReturnType<typeof statsV1> | ReturnType<typeof statsV2>;
