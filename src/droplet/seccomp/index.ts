/** What the rest of droplet uses of the seccomp compiler, in one module: it and its syscall
 * tables are built into a bundle of their own (scripts/build.mjs) and loaded on demand. */
export { compileSeccomp, type CompiledSeccomp } from './compile.js';
export { ACTION_NAMES, FILTER_FLAGS } from './actions.js';
export { ARCHES } from './architectures.js';
export { OPERATORS } from './profile.js';
