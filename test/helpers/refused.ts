import assert from 'node:assert/strict';
import { baseConfig, type Bundle } from './bundle.js';
import { droplet, uniqueId } from './droplet.js';
import { leftovers } from './leaks.js';

/** The base config with a change. */
export function configWith(mutate: (c: any) => void) {
  const c = baseConfig();
  mutate(c);
  return c;
}

/** create must fail with one clear line that names the cause, and leave nothing behind.
 * config: what to write as config.json (undefined: keep the bundle's). */
export function expectRefused(b: Bundle, config: unknown, expected: RegExp, args: string[] = []): string {
  if (config !== undefined) b.write(config);
  const id = uniqueId('bad');
  const r = droplet(b.root, ['create', '--bundle', b.dir, ...args, id]);
  /* a create that wrongly succeeds must not outlive the test */
  if (r.code === 0) droplet(b.root, ['delete', '--force', id]);
  assert.notEqual(r.code, 0, 'create must fail');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line of error, got:\n${r.stderr}`);
  const line = lines[0]!; // one line, checked above
  assert.match(line, new RegExp(`^droplet: create ${id}: `));
  assert.match(line, expected);
  assert.deepEqual(leftovers(b.root, id, b.dir), []);
  return line;
}
