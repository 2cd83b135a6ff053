import type { ProxyRoute } from '../config/balancer.js';

/**
 * The proxy's route table: `ProxyConfig.routes` compiled once into matchers,
 * first match wins. Pure: no I/O, no clock, so it is tested as a table.
 *
 * - Host: compared without its port and case-insensitively; `*.example.com`
 *   matches any subdomain (`a.example.com`, `a.b.example.com`) but not
 *   `example.com` itself, as in Envoy's virtual host domains.
 * - Path prefix: segment-aware, `/api` matches `/api`, `/api/` and `/api/x`
 *   but not `/apix`; a prefix ending in `/` matches plainly. The query string
 *   never takes part in matching.
 * - strip_prefix: removes the prefix and keeps a leading `/`, so `/api/x?q`
 *   becomes `/x?q` and `/api` becomes `/`.
 */

/** The route a request matched and the path to forward. */
export interface RouteMatch {
  /** The matched route as configured. */
  readonly route: ProxyRoute;
  /** Service whose balancer picks the instance. */
  readonly service: string;
  /** Request target to send upstream (path and query), after strip_prefix. */
  readonly path: string;
}

/** A compiled route table. */
export interface RouteTable {
  /**
   * The first route matching `host` (the Host header as received, with or
   * without port; undefined when absent) and `target` (the request target:
   * path and optional query). Undefined when no route matches.
   */
  match(host: string | undefined, target: string): RouteMatch | undefined;
}

interface CompiledRoute {
  readonly route: ProxyRoute;
  /** Lower-case exact host, or undefined to match any. */
  readonly host?: string;
  /** Lower-case suffix including the leading dot (`.example.com`) for wildcard hosts. */
  readonly hostSuffix?: string;
  /** Prefix without a trailing `/` (`/api`), `''` for `/`; undefined to match any path. */
  readonly prefix?: string;
}

/** Compile routes in order; first match wins at match time. */
export function compileRoutes(routes: readonly ProxyRoute[]): RouteTable {
  const compiled: CompiledRoute[] = routes.map((route) => {
    const c: { route: ProxyRoute; host?: string; hostSuffix?: string; prefix?: string } = { route };
    if (route.host !== undefined) {
      const h = route.host.toLowerCase();
      if (h.startsWith('*.')) c.hostSuffix = h.slice(1);
      else c.host = h;
    }
    // A trailing slash is not part of the segment test: `/api/` and `/api` both match `/api/x`.
    if (route.path_prefix !== undefined) c.prefix = route.path_prefix.replace(/\/+$/, '');
    return c;
  });

  return {
    match(rawHost, target) {
      const host = rawHost === undefined ? undefined : normalizeHost(rawHost);
      const q = target.indexOf('?');
      const path = q === -1 ? target : target.slice(0, q);
      for (const c of compiled) {
        if (c.host !== undefined && host !== c.host) continue;
        if (c.hostSuffix !== undefined && !(host !== undefined && host.length > c.hostSuffix.length && host.endsWith(c.hostSuffix))) {
          continue;
        }
        if (c.prefix !== undefined && !segmentPrefix(path, c.prefix)) continue;
        const out = c.route.strip_prefix && c.prefix !== undefined ? strip(target, c.prefix) : target;
        return { route: c.route, service: c.route.service, path: out };
      }
      return undefined;
    },
  };
}

/** `Example.COM:8080` → `example.com`; `[::1]:80` → `[::1]`. */
export function normalizeHost(host: string): string {
  let h = host;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end !== -1) h = h.slice(0, end + 1);
  } else {
    const colon = h.lastIndexOf(':');
    if (colon !== -1) h = h.slice(0, colon);
  }
  // A fully qualified name may end in a dot; it names the same host.
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h.toLowerCase();
}

function segmentPrefix(path: string, prefix: string): boolean {
  if (prefix === '') return path.startsWith('/');
  if (!path.startsWith(prefix)) return false;
  return path.length === prefix.length || path.charCodeAt(prefix.length) === 47; // '/'
}

function strip(target: string, prefix: string): string {
  const rest = target.slice(prefix.length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}
