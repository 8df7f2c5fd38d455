import { type Stats, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, reason } from '../lib/errors.js';
import { parseExactJson } from '../lib/exact-json.js';
import type { Spec } from '../oci/spec.js';
import { validateSpec } from '../oci/validate.js';
import { checkSpecOnHost } from './host-checks.js';

/** Reads <bundle>/config.json, validates it and checks it against this host, or throws a
 * UserError naming the field. */
export function loadSpec(bundle: string): Spec {
  let st: Stats;
  try {
    st = statSync(bundle);
  } catch (err) {
    throw new UserError(`bundle ${bundle}: ${reason(err)}`);
  }
  if (!st.isDirectory()) throw new UserError(`bundle ${bundle}: not a directory`);
  const file = join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`config.json: cannot read ${file}: ${reason(err)}`);
  }
  let raw: unknown;
  try {
    raw = parseExactJson(text);
  } catch (err) {
    throw new UserError(`config.json: invalid JSON: ${(err as Error).message}`);
  }
  const spec = validateSpec(raw, bundle);
  checkSpecOnHost(spec);
  return spec;
}
