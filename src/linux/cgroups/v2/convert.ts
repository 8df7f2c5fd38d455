import { UserError } from '../../../lib/errors.js';
import type { Int64 } from '../../../lib/json-reader.js';

/** The OCI resources are cgroup v1 values; on cgroup v2 they are converted as runc
 * (libcontainer/cgroups/utils.go) and crun (cgroup-internal.h) convert them. */

/** cpu.shares [2, 262144] -> cpu.weight [1, 10000] on the quadratic curve (in log2 of the
 * shares) through the minimums, the maximums and the defaults, 1024 -> 100: runc 1.3.2+ and
 * crun 1.23+ convert so (the older linear 1 + (shares - 2) * 9999 / 262142 gave the default
 * 1024 shares a weight of 39, well below its peers at the default 100). */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  return Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
}

/** blkio.weight [10, 1000] -> io.weight [1, 10000]: 1 + (weight - 10) * 9999 / 990 (runc's
 * ConvertBlkIOToIOWeightValue, crun's write_blkio_resources). */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** The OCI swap is memory+swap; memory.swap.max is swap alone (runc's
 * ConvertMemorySwapToCgroupV2Value). -1 is "max"; undefined leaves the file alone. */
export function memorySwapToV2(swap: Int64 | undefined, limit: Int64 | undefined, field: string): Int64 | undefined {
  /* unlimited memory with swap unset: unlimited swap too, as the v1 controller behaves */
  if (limit === -1 && (swap === undefined || swap === 0)) return -1;
  if (swap === undefined || swap === 0 || swap === -1) return swap === 0 ? undefined : swap;
  if (limit === -1) return swap;
  if (limit === undefined || limit === 0)
    throw new UserError(`${field}: cannot set a swap limit without a memory limit (swap counts memory+swap)`);
  if (swap < limit) throw new UserError(`${field}: ${swap} is below the memory limit ${limit} (swap counts memory+swap)`);
  const rest = BigInt(swap) - BigInt(limit);
  return Number.isSafeInteger(Number(rest)) ? Number(rest) : rest;
}

/** cpu.max: "QUOTA PERIOD", "max" for no quota, the kernel's default period of 100 ms when
 * only the quota is given. undefined when neither is set. */
export function cpuMax(quota: Int64 | undefined, period: number | undefined): string | undefined {
  if (!quota && !period) return undefined;
  const q = quota && quota > 0 ? String(quota) : 'max';
  return `${q} ${period || 100000}`;
}

/** A v2 limit file's spelling: -1 is "max". */
export function v2Limit(n: Int64): string {
  return n === -1 ? 'max' : BigInt(n) > (1n << 63n) - 1n ? 'max' : BigInt(n).toString();
}
