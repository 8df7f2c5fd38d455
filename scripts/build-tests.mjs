// Compiles the TypeScript test suites for node:test.
//   node scripts/build-tests.mjs                      every suite, into .test-build/
//   node scripts/build-tests.mjs --out DIR PATH...    only the suites in these files or
//                                                     directories, into DIR
// DIR must lie inside the repository: the helpers find it by the package.json above them.
import { build } from 'esbuild';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

function suites(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? suites(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

const args = process.argv.slice(2);
let outdir = '.test-build';
if (args[0] === '--out') {
  outdir = args[1];
  args.splice(0, 2);
}
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: (args.length ? args : ['test']).flatMap((p) => (statSync(p).isDirectory() ? suites(p) : [p])),
  outdir,
  outbase: 'test',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
});
