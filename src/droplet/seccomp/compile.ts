import { invalid } from '../../lib/json-reader.js';
import { lookupArch, nativeArchName } from './architectures.js';
import { BPF_MAXINSNS } from './bpf.js';
import { readProfile } from './profile.js';
import { buildProgram } from './program.js';

export interface CompiledSeccomp {
  /** struct sock_filter[] as bytes: per instruction u16 code, u8 jt, u8 jf, u32 k, little endian */
  program: Buffer;
  /** the seccomp(2) SECCOMP_SET_MODE_FILTER flags to load it with (from linux.seccomp.flags) */
  flags: number;
  /** some rule (or the default) uses SCMP_ACT_NOTIFY: load with SECCOMP_FILTER_FLAG_NEW_LISTENER */
  notify: boolean;
  listenerPath?: string;
  listenerMetadata?: string;
  /** syscall names that have no number on one of the filter's architectures: skipped, as runc does */
  skipped: Array<{ arch: string; name: string }>;
}

/**
 * Compiles the runtime-spec `linux.seccomp` object (parsed JSON) into a seccomp BPF program,
 * or throws a UserError naming the offending field. `hostArch` is a process.arch value: its
 * ABI is always filtered, as libseccomp always includes the native architecture.
 */
export function compileSeccomp(raw: unknown, hostArch: string = process.arch): CompiledSeccomp {
  const profile = readProfile(raw);
  const nativeName = nativeArchName(hostArch);
  const native = nativeName === undefined ? undefined : lookupArch(nativeName);
  if (!native || 'error' in native)
    throw invalid('linux.seccomp', `this host's architecture (${nativeName ?? hostArch}) is not supported by this version of droplet`);

  const { program, skipped } = buildProgram(profile, native.arch);
  const count = program.length / 8;
  if (count > BPF_MAXINSNS)
    throw invalid('linux.seccomp', `the filter needs ${count} BPF instructions, more than the kernel's limit of ${BPF_MAXINSNS}`);

  const out: CompiledSeccomp = { program, flags: profile.flags, notify: profile.notify, skipped };
  if (profile.listenerPath !== undefined) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata !== undefined) out.listenerMetadata = profile.listenerMetadata;
  return out;
}
