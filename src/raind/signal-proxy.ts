import type { Engine } from '../condenser/engine.js';

/** What docker's --sig-proxy passes on: the signals a person sends a foreground command. */
const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** Passes the signals raind receives to the container, as docker's client does when the
 * container has no terminal (with one, ctrl-c is a key the container reads). Returns the
 * function that stops it. */
export function proxySignals(engine: Engine, id: string): () => void {
  const handlers = PROXIED.map((signal) => {
    const handler = () => {
      engine.containers.kill(id, signal).catch(() => {
        /* it has exited meanwhile: the attach ends by itself */
      });
    };
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  return () => {
    for (const stop of handlers) stop();
  };
}
