// Bundles each command into one file: droplet's start-up cost is one small script.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: { droplet: 'src/droplet/entry.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minifySyntax: true,
  legalComments: 'none',
  define: { DROPLET_VERSION: JSON.stringify(version) },
  logLevel: 'warning',
});
