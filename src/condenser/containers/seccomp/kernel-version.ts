/** A kernel release as a seccomp profile's minKernel compares it: "major.minor", the rest
 * ignored, so 6.1.0-13-amd64 and 6.1.55 are both 6.1 (moby's rule). */
export interface KernelVersion {
  major: number;
  minor: number;
}

export function parseKernelVersion(text: string): KernelVersion | undefined {
  const m = /^(\d+)\.(\d+)/.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export function kernelAtLeast(kernel: KernelVersion, min: KernelVersion): boolean {
  return kernel.major > min.major || (kernel.major === min.major && kernel.minor >= min.minor);
}
