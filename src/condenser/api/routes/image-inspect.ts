import { sendJson } from '../http-io.js';
import type { Router } from '../router.js';

/** GET /images/{name}/json, as little as docker-compose needs to create containers (its
 * `up` inspects the service's image, by name and by id). The image endpoints proper
 * supersede it: registered after them, it is then never reached. */
export function imageInspectRoute(router: Router): void {
  router.get('/images/{name*}/json', (r) => {
    const image = r.engine.inspectImage(r.params.name ?? '');
    sendJson(r.res, 200, {
      ...image,
      ContainerConfig: image.Config ?? {},
      Parent: '',
      Comment: '',
      GraphDriver: { Name: 'overlay2', Data: null },
    });
  });
}
