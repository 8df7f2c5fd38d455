import { main } from './main.js';

/* Exit as soon as the command is done: all output is written synchronously, and waiting for
 * the event loop to wind down (closing the init's socket, the thread pool) costs 10+ ms. */
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`droplet: internal error: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
