import { AARCH64, RISCV64, X32, X86, X86_64, type SyscallTable } from './syscall-tables.js';

/** AUDIT_ARCH_* from <linux/audit.h>: the value the kernel puts in seccomp_data.arch. */
export const AUDIT_ARCH = {
  X86_64: 0xc000003e, // EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
  I386: 0x40000003, // EM_386 | __AUDIT_ARCH_LE
  AARCH64: 0xc00000b7, // EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
  RISCV64: 0xc00000f3, // EM_RISCV | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
} as const;

/** x86_64 and x32 share AUDIT_ARCH_X86_64; an x32 syscall number has this bit set. */
export const X32_SYSCALL_BIT = 0x40000000;

export interface Arch {
  /** the SCMP_ARCH_* name */
  name: string;
  audit: number;
  table: SyscallTable;
  /** Syscall arguments are compared on their low 32 bits only, as libseccomp does for its
   * 32-bit ABIs (x86, x32): their values fit in 32 bits. */
  argBits: 32 | 64;
  /** Which seccomp_data.nr values belong to this ABI under its audit arch. */
  nrRange: 'all' | 'below-x32-bit' | 'x32-bit';
}

/** The architectures droplet has syscall tables for. All are little endian, which the BPF
 * emitter relies on when it loads the low word of an argument first. */
export const ARCHES: Readonly<Record<string, Arch>> = {
  SCMP_ARCH_X86_64: { name: 'SCMP_ARCH_X86_64', audit: AUDIT_ARCH.X86_64, table: X86_64, argBits: 64, nrRange: 'below-x32-bit' },
  SCMP_ARCH_X86: { name: 'SCMP_ARCH_X86', audit: AUDIT_ARCH.I386, table: X86, argBits: 32, nrRange: 'all' },
  SCMP_ARCH_X32: { name: 'SCMP_ARCH_X32', audit: AUDIT_ARCH.X86_64, table: X32, argBits: 32, nrRange: 'x32-bit' },
  SCMP_ARCH_AARCH64: { name: 'SCMP_ARCH_AARCH64', audit: AUDIT_ARCH.AARCH64, table: AARCH64, argBits: 64, nrRange: 'all' },
  SCMP_ARCH_RISCV64: { name: 'SCMP_ARCH_RISCV64', audit: AUDIT_ARCH.RISCV64, table: RISCV64, argBits: 64, nrRange: 'all' },
};

/** Names the runtime-spec (libseccomp) knows but droplet has no table for: the error then says
 * "unsupported" rather than "unknown". 32-bit ARM's numbering is not in the generic headers. */
const KNOWN_UNSUPPORTED = new Set([
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K',
  'SCMP_ARCH_SH',
  'SCMP_ARCH_SHEB',
]);

export type ArchLookup = { arch: Arch } | { error: string };

export function lookupArch(name: string): ArchLookup {
  const arch = Object.hasOwn(ARCHES, name) ? ARCHES[name] : undefined;
  if (arch) return { arch };
  if (KNOWN_UNSUPPORTED.has(name)) return { error: `${name} is not supported by this version of droplet (no syscall table)` };
  return { error: `unknown architecture "${name}"` };
}

/** process.arch -> the native SCMP_ARCH_*. libseccomp always filters the native ABI, whatever
 * the architectures list says. */
const NATIVE: Readonly<Record<string, string>> = {
  x64: 'SCMP_ARCH_X86_64',
  ia32: 'SCMP_ARCH_X86',
  arm64: 'SCMP_ARCH_AARCH64',
  riscv64: 'SCMP_ARCH_RISCV64',
  arm: 'SCMP_ARCH_ARM',
  s390x: 'SCMP_ARCH_S390X',
};

export function nativeArchName(hostArch: string): string | undefined {
  return Object.hasOwn(NATIVE, hostArch) ? NATIVE[hostArch] : undefined;
}
