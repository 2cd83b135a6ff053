import type { Scope } from '../config/security.js';

/**
 * What a route needs: `open` (probes), `public` (the dashboard's shell,
 * status pages and badges: their handlers decide), `metrics` (read when
 * `metrics.protect` or `protect_reads`), or a token scope. `read` routes
 * need the token only with `protect_reads`; `write` and `admin` always do
 * once any token is configured.
 */
export type RouteAccess = 'open' | 'public' | 'metrics' | Scope;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route needs, when a route declares it itself (an extension's); else ROUTE_ACCESS or the method's default. */
    access?: RouteAccess;
  }
}

/**
 * Every route of the daemon's server and what it needs, keyed
 * `METHOD url-pattern` as fastify registers it (HEAD follows GET). The
 * security test walks the server's real route table: a mutating route
 * missing here and declaring nothing fails it, and at run time gets
 * `admin` (the safe side), a GET gets `read`.
 */
export const ROUTE_ACCESS: Readonly<Record<string, RouteAccess>> = {
  'GET /livez': 'open',
  'GET /readyz': 'open',
  'GET /': 'public',
  'GET /status/:slug': 'public',
  'GET /assets/*': 'public',
  'GET /badge/:service/status.svg': 'public',
  'GET /badge/:service/uptime.svg': 'public',
  'GET /badge/:service/latency.svg': 'public',
  'GET /api/v1/status/:slug': 'public',
  'GET /metrics': 'metrics',
  'GET /health': 'read',
  'GET /api/v1/openapi.json': 'read',
  'GET /api/v1/services': 'read',
  'GET /api/v1/services/:service': 'read',
  'GET /api/v1/services/:service/instances': 'read',
  'GET /api/v1/services/:service/balancer': 'read',
  'GET /api/v1/services/:service/rollups': 'read',
  'GET /api/v1/services/:service/uptime': 'read',
  'GET /api/v1/instances/*': 'read',
  'GET /api/v1/instances/:service/:id/rollups': 'read',
  'GET /api/v1/instances/:id/rollups': 'read',
  'GET /api/v1/instances/:service/:id/uptime': 'read',
  'GET /api/v1/instances/:id/uptime': 'read',
  'GET /api/v1/checks': 'read',
  'GET /api/v1/checks/*': 'read',
  'GET /api/v1/checks/:service/:instance/:name/rollups': 'read',
  'GET /api/v1/checks/:id/rollups': 'read',
  'GET /api/v1/transitions': 'read',
  'GET /api/v1/events': 'read',
  'GET /api/v1/web/summary': 'read',
  'GET /api/v1/web/services/:service': 'read',
  'GET /api/v1/web/services/:service/uptime': 'read',
  'GET /api/v1/web/events': 'read',
  'GET /api/v1/alerts': 'read',
  'GET /api/v1/alerts/:id': 'read',
  'GET /api/v1/silences': 'read',
  'GET /api/v1/notifiers': 'read',
  'GET /api/v1/services/:service/analysis': 'read',
  'GET /api/v1/instances/:service/:id/analysis': 'read',
  'GET /api/v1/instances/:id/analysis': 'read',
  'GET /api/v1/checks/:service/:instance/:name/analysis': 'read',
  'GET /api/v1/checks/:id/analysis': 'read',
  'GET /api/v1/reports': 'read',
  'GET /api/v1/reports/schedules': 'read',
  'GET /api/v1/reports/files/:schedule/:file': 'read',
  'POST /api/v1/reports/schedules/:name/run': 'write',
  'POST /api/v1/instances': 'write',
  'DELETE /api/v1/instances/*': 'write',
  'PUT /api/v1/checks/*': 'write',
  'POST /api/v1/services/:service/balancer/reports': 'write',
  'POST /api/v1/silences': 'write',
  'DELETE /api/v1/silences/:id': 'write',
  'POST /api/v1/reload': 'admin',
};

/** Whether a method only reads. */
export function isReadMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

/** How a route's access was decided: from the table, declared by the route, or the method's default. */
export type AccessSource = 'table' | 'declared' | 'default';

/** What `method url` needs, and where that came from. */
export function accessOf(method: string, url: string, declared?: RouteAccess): { access: RouteAccess; source: AccessSource } {
  const listed = ROUTE_ACCESS[`${method === 'HEAD' ? 'GET' : method} ${url}`];
  if (listed) return { access: listed, source: 'table' };
  if (declared) return { access: declared, source: 'declared' };
  return { access: isReadMethod(method) ? 'read' : 'admin', source: 'default' };
}
