import { basename } from 'node:path';

type Program = (argv: string[]) => Promise<number>;

/** One executable, several programs: the name it was run by (a link in bin/) picks one, as
 * with busybox, so the runtime is shipped once. Each is loaded only when it is the one run.
 * A program is one line here and one in scripts/build.mjs (its link). The build holds the JIT
 * back for commands that live milliseconds: a long-lived program (a server) calls
 * Bun.unsafe.setJITPolicy(1) first. */
const PROGRAMS = {
  droplet: () => (require('./droplet/main.js') as typeof import('./droplet/main.js')).main,
  raind: () => (require('./raind/main.js') as typeof import('./raind/main.js')).main,
} satisfies Record<string, () => Program>;
type Name = keyof typeof PROGRAMS;

/** A name the table does not know is the runtime's: callers install it under names of
 * their own (a containerd BinaryName, a runtime path in containers.conf). */
const DEFAULT: Name = 'droplet';

const isName = (s: string): s is Name => Object.hasOwn(PROGRAMS, s);
const name = basename(process.argv0);
const program = isName(name) ? name : DEFAULT;

/* Exit as soon as the command is done: all output is written synchronously, and waiting for
 * the event loop to wind down (closing the init's socket, the thread pool) costs time. */
PROGRAMS[program]()(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    /* written before exit returns, whatever stderr is: a pipe to containerd, a file */
    (require('node:fs') as typeof import('node:fs')).writeSync(2, `${program}: internal error: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
