// Routes: a table of method + path pattern (`:name` segments) -> handler
// with the least role it needs. Route modules register themselves with
// `register(router, deps)`; the server matches, authenticates, checks the
// role and CSRF, then calls the handler. Handlers return a JSON-able value
// (200) or a Reply.
import type { Role } from './api-types.js';
import type { Reply, Request } from './http/exchange.js';
import type { Session } from './auth/sessions.js';
import { HttpError } from './http/errors.js';

export interface Principal {
  name: string;
  role: Role;
  via: 'session' | 'token';
  session?: Session;
  /** the cookie value, for logout (and the WebSocket hub's re-check) */
  sessionId?: string;
  /** a wall token's SHA-256 (the WebSocket hub's re-check) */
  tokenHash?: string;
}

export interface RouteContext {
  req: Request;
  /** null only on routes with role null (login, status) */
  principal: Principal | null;
}

export type Handler = (ctx: RouteContext) => Promise<unknown>;

export interface RouteSpecLike {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  role: Role | null;
}

interface Route extends RouteSpecLike {
  segments: string[];
  handler: Handler;
}

export const ROLE_RANK: Record<Role, number> = { viewer: 1, analyst: 2, admin: 3 };

export function roleAtLeast(role: Role, least: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[least];
}

export class Router {
  private readonly routes: Route[] = [];

  add(spec: RouteSpecLike, handler: Handler): void {
    this.routes.push({ ...spec, segments: spec.path.split('/'), handler });
  }

  /** The route for a method and path, with its decoded parameters; 404/405 otherwise. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } {
    const parts = path.split('/');
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
      allowed.push(route.method);
    }
    if (allowed.length > 0) throw new HttpError('method_not_allowed', `${method} is not allowed on ${path}`, undefined, { Allow: [...new Set(allowed)].join(', ') });
    throw new HttpError('not_found', `no API route ${path}`);
  }

  list(): RouteSpecLike[] {
    return this.routes.map(({ method, path, role }) => ({ method, path, role }));
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const v = parts[i]!;
    if (p.startsWith(':')) {
      if (v === '') return undefined;
      try {
        params[p.slice(1)] = decodeURIComponent(v);
      } catch {
        throw new HttpError('bad_request', `path parameter ${p.slice(1)} is not valid percent-encoding`, p.slice(1));
      }
    } else if (p !== v) {
      return undefined;
    }
  }
  return params;
}

export type { Reply, Request };
