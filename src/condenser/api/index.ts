import { join } from 'node:path';
import type { Engine } from '../engine.js';
import { AuditLog } from './audit.js';
import { Router } from './router.js';
import { ApiDispatcher } from './server.js';
import { attachRoutes } from './routes/attach.js';
import { containerRoutes } from './routes/containers.js';
import { imageRoutes } from './routes/images.js';
import { imageTransferRoutes } from './routes/image-transfer.js';
import { systemDfRoutes } from './routes/system-df.js';
import { execRoutes } from './routes/exec.js';
import { logRoutes } from './routes/logs.js';
import { systemRoutes } from './routes/system.js';
import { archiveRoutes } from './routes/archive.js';
import { eventRoutes } from './routes/events.js';
import { networkRoutes } from './routes/networks.js';
import { statsRoutes } from './routes/stats.js';
import { volumeRoutes } from './routes/volumes.js';

export {
  DEFAULT_SOCKET,
  type ListenAddress,
  type TlsFiles,
  checkAddress,
  describeAddress,
  listen,
  parseListenAddress,
} from './listeners.js';

/** The Docker Engine API of one engine: every route, and the audit log at `<root>/audit.log`. */
export function apiDispatcher(engine: Engine): ApiDispatcher {
  const router = new Router();
  systemRoutes(router);
  containerRoutes(router);
  imageTransferRoutes(router);
  imageRoutes(router);
  systemDfRoutes(router);
  attachRoutes(router);
  logRoutes(router);
  execRoutes(router);
  networkRoutes(router);
  volumeRoutes(router);
  archiveRoutes(router);
  statsRoutes(router);
  eventRoutes(router);
  return new ApiDispatcher(engine, router, new AuditLog(join(engine.opts.root, 'audit.log')));
}
