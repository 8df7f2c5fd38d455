import { UsageError } from '../lib/errors.js';
import { checkPattern } from '../condenser/images/reference-match.js';

export { globMatch, referenceMatch } from '../condenser/images/reference-match.js';

export interface ImageFilters {
  dangling?: boolean;
  references: string[];
}

/** `--filter KEY=VALUE` of images: dangling=true|false, reference=PATTERN. */
export function parseImageFilters(cmd: string, filters: string[]): ImageFilters {
  const result: ImageFilters = { references: [] };
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new UsageError(`${cmd}: bad filter "${f}": expected KEY=VALUE`);
    const key = f.slice(0, eq);
    const value = f.slice(eq + 1);
    if (key === 'dangling') {
      if (value !== 'true' && value !== 'false') throw new UsageError(`${cmd}: filter dangling must be true or false, not "${value}"`);
      const d = value === 'true';
      if (result.dangling !== undefined && result.dangling !== d)
        throw new UsageError(`${cmd}: filters dangling=true and dangling=false contradict each other`);
      result.dangling = d;
    } else if (key === 'reference') {
      try {
        checkPattern(value);
      } catch (e) {
        throw new UsageError(`${cmd}: filter reference: ${(e as Error).message}`);
      }
      result.references.push(value);
    } else throw new UsageError(`${cmd}: unknown filter "${key}" (dangling and reference are supported)`);
  }
  return result;
}
