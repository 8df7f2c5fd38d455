import type { ApiRequest } from './request.js';

export type Handler = (r: ApiRequest) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

/** Routes by method and path. A `{name}` part matches one path segment; `{name*}` matches
 * the rest up to the route's next literal part, slashes included (image names have them). */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, path: string, handler: Handler): this {
    const names: string[] = [];
    const source = path.replace(/[.+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)(\*?)\}/g, (_, name: string, greedy: string) => {
      names.push(name);
      return greedy ? '(.+)' : '([^/]+)';
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}/?$`), names, handler });
    return this;
  }

  get(path: string, handler: Handler): this {
    return this.add('GET', path, handler);
  }

  post(path: string, handler: Handler): this {
    return this.add('POST', path, handler);
  }

  put(path: string, handler: Handler): this {
    return this.add('PUT', path, handler);
  }

  head(path: string, handler: Handler): this {
    return this.add('HEAD', path, handler);
  }

  delete(path: string, handler: Handler): this {
    return this.add('DELETE', path, handler);
  }

  /** The handler for the request and the path's parameters; `allowed` lists the methods the
   * path has when the method is not one of them (405), nothing when no route has the path. */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | { allowed: string[] } {
    const allowed: string[] = [];
    let fallback: { handler: Handler; params: Record<string, string> } | undefined;
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1] ?? '');
      });
      if (route.method === method) return { handler: route.handler, params };
      /* HEAD is GET without the body, unless the path has a HEAD of its own */
      if (method === 'HEAD' && route.method === 'GET') fallback ??= { handler: route.handler, params };
      allowed.push(route.method);
    }
    return fallback ?? { allowed };
  }
}
