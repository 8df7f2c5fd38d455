import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ENUMS, RECORDS } from '../../src/droplet/plan/protocol.js';
import { REPO } from '../helpers/droplet.js';

describe('the launch plan protocol', () => {
  test('tags.ts and native/init/plan-tags.h are what protocol.ts makes', () => {
    /* node-gyp compiles the C before any TypeScript is built: the header is committed, and
     * this is what keeps it from drifting from the one table */
    const r = spawnSync(process.execPath, [join(REPO, 'scripts', 'gen-plan-tags.mjs'), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  test('tags, names and enum values are unique', () => {
    assert.equal(new Set(RECORDS.map((r) => r.tag)).size, RECORDS.length);
    assert.equal(new Set(RECORDS.map((r) => r.name)).size, RECORDS.length);
    for (const e of ENUMS) assert.equal(new Set(e.members.map((m) => m.value)).size, e.members.length, e.name);
  });
});
