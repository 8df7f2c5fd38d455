import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, test } from 'node:test';
import type { CgroupDir } from '../../src/linux/cgroups/container-cgroup.js';
import type { Hierarchy } from '../../src/linux/cgroups/hierarchy.js';
import { buildPlan, type PlanInput } from '../../src/droplet/plan/build.js';
import { encodePlan, type PlanRecord } from '../../src/droplet/plan/encode.js';
import { buildExecPlan, execJoinOrder } from '../../src/droplet/plan/exec-plan.js';
import { defaultSpec } from '../../src/oci/default-spec.js';
import { parseExactJson } from '../../src/lib/exact-json.js';
import { validateSpec } from '../../src/oci/validate.js';
import { REPO } from '../helpers/droplet.js';
import { decodePlan, planJson } from '../helpers/plan-schema.js';

/** The plans buildPlan makes for known configs, pinned in test/fixtures/plans/*.json.
 * After a deliberate change, rewrite them with UPDATE_GOLDEN=1 npm run test:unit and
 * review the diff. Everything the host would decide is fixed here: the bundle path, the
 * cgroup hierarchies, the container's id. */

const FIXTURES = join(REPO, 'test', 'fixtures');
const BUNDLE = '/bundle';
const ID = 'golden';

/** cgroup v1 controllers beside an empty cgroup2 mount, as on the machines here */
const HYBRID: Hierarchy[] = [
  { version: 1, mountpoint: '/sys/fs/cgroup/cpu,cpuacct', key: 'cpu,cpuacct' },
  { version: 1, mountpoint: '/sys/fs/cgroup/memory', key: 'memory' },
  { version: 1, mountpoint: '/sys/fs/cgroup/pids', key: 'pids' },
  { version: 1, mountpoint: '/sys/fs/cgroup/systemd', key: 'name=systemd' },
  { version: 2, mountpoint: '/sys/fs/cgroup/unified', key: '' },
];
const UNIFIED: Hierarchy[] = [{ version: 2, mountpoint: '/sys/fs/cgroup', key: '' }];

function cgroupDirs(hierarchies: Hierarchy[], path: string): CgroupDir[] {
  return hierarchies.map((hierarchy) => ({ hierarchy, path, dir: posix.join(hierarchy.mountpoint, path) }));
}

interface Case {
  name: string;
  config: () => unknown;
  hierarchies: Hierarchy[];
  input?: Partial<PlanInput>;
}

const fixture = (file: string) => () => parseExactJson(readFileSync(join(FIXTURES, file), 'utf8'));

const CASES: Case[] = [
  /* what `droplet spec` writes: runc's default container */
  { name: 'default', config: defaultSpec, hierarchies: HYBRID },
  /* what `runc spec --rootless` writes for uid 1000: a user namespace, no network namespace,
   * /sys bound from the host; with its terminal on a console socket */
  {
    name: 'rootless',
    config: fixture('rootless-config.json'),
    hierarchies: UNIFIED,
    input: { consoleSocket: '/run/user/1000/console.sock' },
  },
  /* podman's config for a container, on a pure cgroup v2 host */
  { name: 'podman', config: fixture('podman-config.json'), hierarchies: UNIFIED },
];

function plan(c: Case): PlanRecord[] {
  const spec = validateSpec(c.config(), BUNDLE);
  return buildPlan({
    id: ID,
    spec,
    bundle: BUNDLE,
    fifo: `/run/droplet/${ID}/exec.fifo`,
    cgroups: cgroupDirs(c.hierarchies, spec.linux.cgroupsPath ?? `/droplet/${ID}`),
    noPivot: false,
    monitor: false,
    preserveFds: 0,
    noNewKeyring: false,
    ...c.input,
  });
}

/** The exec plan of the same container: the process of its config, in the foreground. */
function execPlan(c: Case): PlanRecord[] {
  const spec = validateSpec(c.config(), BUNDLE);
  return buildExecPlan({
    namespaces: execJoinOrder(spec),
    process: spec.process,
    initPid: 4242,
    monitor: true,
    preserveFds: 0,
    consoleSocket: c.input?.consoleSocket,
  });
}

function matchesGolden(file: string, records: PlanRecord[]): void {
  const text = `${JSON.stringify(planJson(records), null, 2)}\n`;
  const path = join(FIXTURES, 'plans', file);
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, text);
  assert.equal(text, readFileSync(path, 'utf8'), `${file} differs: if the change is meant, UPDATE_GOLDEN=1 npm run test:unit`);
}

describe('golden launch plans', () => {
  for (const c of CASES) {
    test(`${c.name}: create`, () => matchesGolden(`${c.name}.json`, plan(c)));
    test(`${c.name}: exec`, () => matchesGolden(`${c.name}-exec.json`, execPlan(c)));
    test(`${c.name}: encoded, the init reads what was built`, () => {
      for (const records of [plan(c), execPlan(c)]) {
        const built = planJson(records).map(({ tag, fields }) => ({ tag, fields }));
        assert.deepEqual(decodePlan(encodePlan(records)), built);
      }
    });
  }
});
