/* The layering of src/: imports point one way, lib <- oci <- linux <- {droplet, condenser}
 * <- raind, with main.ts (the multi-call entry) above them all; droplet and condenser never
 * import each other (the engine drives the runtime through its command line). */
const layer = (name, mayNotImport) => ({
  name: `${name}-imports-upward`,
  comment: `src/${name} may not import ${mayNotImport.join(', ')}`,
  severity: 'error',
  from: { path: `^src/${name}/` },
  to: { path: `^src/(${mayNotImport.join('|')})/` },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    layer('lib', ['oci', 'linux', 'droplet', 'condenser', 'raind']),
    layer('oci', ['linux', 'droplet', 'condenser', 'raind']),
    layer('linux', ['droplet', 'condenser', 'raind']),
    layer('droplet', ['condenser', 'raind']),
    layer('condenser', ['droplet', 'raind']),
    {
      name: 'entry-only-from-outside',
      comment: 'src/main.ts is the executable entry: nothing in src imports it',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/main\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    /* runtime-only requires (lazily loaded command modules) count as imports too */
    exoticRequireStrings: [],
  },
};
