// Bundles each command into one file: droplet's start-up cost is one small script.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/* The seccomp compiler (its syscall tables are most of the code) is a bundle of its own that
 * the main one requires on first use: every droplet start would otherwise compile it. */
const seccompApart = {
  name: 'seccomp-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\/seccomp\/index\.js$/ }, (args) =>
      args.importer.endsWith('seccomp-module.ts') ? { path: './droplet-seccomp.js', external: true } : undefined,
    );
  },
};

await build({
  entryPoints: { droplet: 'src/droplet/entry.ts', 'droplet-seccomp': 'src/droplet/seccomp/index.ts' },
  plugins: [seccompApart],
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
