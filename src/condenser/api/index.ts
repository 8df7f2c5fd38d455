import { join } from 'node:path';
import type { Engine } from '../engine.js';
import { AuditLog } from './audit.js';
import { Router } from './router.js';
import { ApiDispatcher } from './server.js';
import { containerRoutes } from './routes/containers.js';
import { systemRoutes } from './routes/system.js';
import { archiveRoutes } from './routes/archive.js';
import { eventRoutes } from './routes/events.js';
import { imageInspectRoute } from './routes/image-inspect.js';
import { networkRoutes } from './routes/networks.js';
import { statsRoutes } from './routes/stats.js';
import { volumeRoutes } from './routes/volumes.js';

export { DEFAULT_SOCKET, type ListenAddress, type TlsFiles, listen, parseListenAddress } from './listeners.js';

/** The Docker Engine API of one engine: every route, and the audit log at `<root>/audit.log`. */
export function apiDispatcher(engine: Engine): ApiDispatcher {
  const router = new Router();
  systemRoutes(router);
  containerRoutes(router);
  networkRoutes(router);
  volumeRoutes(router);
  archiveRoutes(router);
  statsRoutes(router);
  eventRoutes(router);
  /* last: the image endpoints, where present, answer first */
  imageInspectRoute(router);
  return new ApiDispatcher(engine, router, new AuditLog(join(engine.opts.root, 'audit.log')));
}
