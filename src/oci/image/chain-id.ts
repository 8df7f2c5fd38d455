import { createHash } from 'node:crypto';

/** The chain IDs of a stack of layers, from their diff IDs (image-spec, config.md): the
 * first is its diff ID, each next one is sha256 of "<previous chain ID> <diff ID>". A layer
 * unpacked on top of the same parents has the same chain ID, so it is unpacked once. */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out.at(-1);
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}
