import { UserError } from '../../lib/errors.js';
import type { Descriptor, Platform } from './types.js';

/** A platform asked for: `os/arch[/variant]`. */
export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
  i386: '386',
};
/** Node's process.arch names, as image-spec (GOARCH) names */
const NODE_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

export function hostPlatform(): PlatformSpec {
  return { os: 'linux', architecture: NODE_ARCH[process.arch] ?? process.arch };
}

export function parsePlatform(text: string): PlatformSpec {
  const parts = text.toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new UserError(`invalid platform "${text}": expected os/arch[/variant]`, { kind: 'invalid' });
  }
  const [os = '', arch = '', variant] = parts; /* two or three parts, checked above */
  return { os, architecture: ARCH_ALIASES[arch] ?? arch, ...(variant === undefined ? {} : { variant }) };
}

export function formatPlatform(p: PlatformSpec | Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** arm64's one variant is v8 and is often left out; arm's default is v7 */
function normalVariant(arch: string, variant: string | undefined): string | undefined {
  if (variant) return variant;
  if (arch === 'arm64') return 'v8';
  if (arch === 'arm') return 'v7';
  return undefined;
}

export function platformMatches(want: PlatformSpec, have: Platform | undefined): boolean {
  if (!have || have.os !== want.os || have.architecture !== want.architecture) return false;
  /* no variant asked for: any variant of the architecture does, as docker's matcher */
  if (want.variant === undefined) return true;
  return normalVariant(want.architecture, want.variant) === normalVariant(have.architecture, have.variant);
}

/** The manifest of an index for a platform: the first that matches, in the index's order
 * (which is the publisher's preference). */
export function selectManifest(manifests: readonly Descriptor[], want: PlatformSpec, what: string): Descriptor {
  const hit = manifests.find((m) => platformMatches(want, m.platform));
  if (hit) return hit;
  const offered = manifests.filter((m) => m.platform).map((m) => formatPlatform(m.platform as Platform));
  throw new UserError(
    `${what}: no image for platform ${formatPlatform(want)} (the index offers ${offered.length ? offered.join(', ') : 'none'})`,
    {
      kind: 'not-found',
    },
  );
}
