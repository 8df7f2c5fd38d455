// Compiles the TypeScript test suites for node:test.
//   node scripts/build-tests.mjs                      every suite, into .test-build/
//   node scripts/build-tests.mjs --out DIR FILE...    only these suites, into DIR
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
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
  entryPoints: args.length ? args : suites('test'),
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
