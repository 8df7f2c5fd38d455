import type * as Seccomp from './seccomp/index.js';

/** The seccomp compiler and its syscall tables are most of droplet's code by size; only a
 * config with linux.seccomp (and `features`) needs them, so they are loaded on first use. */
export function seccompModule(): typeof Seccomp {
  return require('./seccomp/index.js') as typeof Seccomp;
}
