import { release } from 'node:os';
import { type KernelVersion, kernelAtLeast, parseKernelVersion } from './kernel-version.js';
import type { ProfileSyscall, RuleFilter, SeccompProfile } from './profile.js';

/** What a profile is resolved against: the machine's architecture, in the two spellings
 * profiles use, and its kernel. */
export interface SeccompHost {
  /** libseccomp's native name, as includes/excludes.arches spell it: amd64, arm64, ... */
  arch: string;
  /** the SCMP_ARCH_* name archMap is keyed by */
  scmpArch: string;
  kernel: KernelVersion;
}

/** The runtime-spec's linux.seccomp. */
export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls: OciSyscall[];
}

export interface OciSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: OciSeccompArg[];
}

export interface OciSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

/** Node's process.arch -> [libseccomp native name, SCMP_ARCH_*] (moby's goToNative and
 * nativeToSeccomp tables, keyed by Node's names). */
const ARCHES: Readonly<Record<string, [string, string]>> = {
  x64: ['amd64', 'SCMP_ARCH_X86_64'],
  ia32: ['x86', 'SCMP_ARCH_X86'],
  arm64: ['arm64', 'SCMP_ARCH_AARCH64'],
  arm: ['arm', 'SCMP_ARCH_ARM'],
  ppc64: ['ppc64le', 'SCMP_ARCH_PPC64LE'],
  s390x: ['s390x', 'SCMP_ARCH_S390X'],
  riscv64: ['riscv64', 'SCMP_ARCH_RISCV64'],
  mips64el: ['mipsel64', 'SCMP_ARCH_MIPSEL64'],
  loong64: ['loong64', 'SCMP_ARCH_LOONGARCH64'],
};

export function thisHost(): SeccompHost {
  const [arch, scmpArch] = Object.hasOwn(ARCHES, process.arch) ? (ARCHES[process.arch] ?? ['', '']) : [process.arch, ''];
  /* a release that does not parse compares as the oldest kernel: minKernel rules stay off */
  return { arch, scmpArch, kernel: parseKernelVersion(release()) ?? { major: 0, minor: 0 } };
}

/**
 * The profile made concrete for one container on this host, as moby's setupSeccomp and
 * containers-common do it: the architectures are this machine's entry of archMap (itself
 * and its sub-architectures), and a rule is kept only when its excludes do not match (no
 * excluded arch, no excluded capability held, kernel below an excluded minKernel) and its
 * includes all do (this arch among the listed, every listed capability held, kernel at
 * least minKernel). Capabilities are the container's bounding set. Undefined: no filter.
 */
export function ociSeccomp(profile: SeccompProfile, capabilities: readonly string[], host: SeccompHost): OciSeccomp | undefined {
  if (profile.defaultAction === undefined) return undefined;
  const out: OciSeccomp = { defaultAction: profile.defaultAction, syscalls: [] };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  const architectures = [...profile.architectures];
  const mapped = profile.archMap.find((a) => a.architecture === host.scmpArch);
  if (mapped) architectures.push(mapped.architecture, ...mapped.subArchitectures);
  if (architectures.length > 0) out.architectures = architectures;
  if (profile.flags.length > 0) out.flags = [...profile.flags];
  if (profile.listenerPath !== undefined) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata !== undefined) out.listenerMetadata = profile.listenerMetadata;
  const held = new Set(capabilities);
  for (const rule of profile.syscalls) if (applies(rule, held, host)) out.syscalls.push(ociSyscall(rule));
  return out;
}

function applies(rule: ProfileSyscall, held: Set<string>, host: SeccompHost): boolean {
  return !excluded(rule.excludes, held, host) && included(rule.includes, held, host);
}

function excluded(f: RuleFilter, held: Set<string>, host: SeccompHost): boolean {
  if (f.arches.includes(host.arch)) return true;
  if (f.caps.some((c) => held.has(c))) return true;
  return f.minKernel !== undefined && kernelAtLeast(host.kernel, f.minKernel);
}

function included(f: RuleFilter, held: Set<string>, host: SeccompHost): boolean {
  if (f.arches.length > 0 && !f.arches.includes(host.arch)) return false;
  if (!f.caps.every((c) => held.has(c))) return false;
  return f.minKernel === undefined || kernelAtLeast(host.kernel, f.minKernel);
}

function ociSyscall(rule: ProfileSyscall): OciSyscall {
  const out: OciSyscall = { names: [...rule.names], action: rule.action };
  if (rule.errnoRet !== undefined) out.errnoRet = rule.errnoRet;
  /* valueTwo 0 is left out, as the runtime-spec's Go types write it */
  if (rule.args.length > 0)
    out.args = rule.args.map(({ index, value, valueTwo, op }) => ({ index, value, ...(valueTwo !== 0 ? { valueTwo } : {}), op }));
  return out;
}
