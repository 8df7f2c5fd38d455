import type { Engine } from '../condenser/engine.js';

export async function attachAndStart(engine: Engine, id: string): Promise<number> {
  await engine.containers.start(id);
  return engine.containers.wait(id, { removed: true });
}
