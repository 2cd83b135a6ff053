import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.js';
import type { HealthStatus } from '../core/status.js';
import type { StatusPagesConfig } from '../config/status-pages.js';
import { bearerMatches } from './auth.js';
import { renderBadge, type BadgeColor } from './web-badge-svg.js';
import type { MeshView } from './web-mesh.js';
import { publicRoute } from './web-public.js';
import { MAX_DAYS, type UptimeDays } from './web-uptime.js';

export interface BadgeDeps {
  mesh: MeshView;
  uptime: UptimeDays;
  clock: Clock;
  pages: () => StatusPagesConfig;
  /** Whether reads need the token (server.protect_reads with a token set). */
  readsProtected: () => boolean;
  serverToken?: string;
  /** Whether an Authorization header carries a token with the read scope (server.tokens). */
  readAllowed?: (authorization: string | undefined) => boolean;
}

const STATUS_BADGE: Record<HealthStatus, { message: string; color: BadgeColor }> = {
  HEALTHY: { message: 'healthy', color: 'green' },
  DEGRADED: { message: 'degraded', color: 'yellow' },
  UNHEALTHY: { message: 'down', color: 'red' },
  UNKNOWN: { message: 'unknown', color: 'grey' },
};

/** Seconds a badge may be cached: status moves fast, uptime slowly. */
const MAX_AGE = { status: 30, uptime: 300, latency: 60 } as const;
/** Minutes of results the latency badge averages. */
const LATENCY_MINUTES = 5;

/** `30d`, `24h` → ms, at most MAX_DAYS days; undefined when malformed. */
export function parsePeriod(text: string): number | undefined {
  const m = /^(\d{1,4})([dh])$/.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * (m[2] === 'd' ? 86_400_000 : 3_600_000);
  return ms > 0 && ms <= MAX_DAYS * 86_400_000 ? ms : undefined;
}

/** Colour of an uptime percentage, as shields colours uptime. */
function uptimeColor(p: number): BadgeColor {
  return p >= 99.9 ? 'green' : p >= 99 ? 'yellow' : p >= 95 ? 'orange' : 'red';
}

/**
 * SVG badges for READMEs and wikis: /badge/:service/status.svg,
 * /badge/:service/uptime.svg?period=30d, /badge/:service/latency.svg.
 * An <img> cannot send a token, so with protected reads a badge is served
 * only for services on a public status page (others answer 401 with a
 * badge saying so). Uptime comes from the store's uptime when it has it
 * (issue 14), else from the check rollups; latency is the mean of the last
 * five minutes of results ("n/a" with none).
 */
export function registerBadges(app: FastifyInstance, deps: BadgeDeps): void {
  const onPublicPage = (service: string): boolean => Object.values(deps.pages()).some((p) => p.public && p.services.includes(service));

  const send = (reply: FastifyReply, code: number, svg: string, maxAge: number): FastifyReply =>
    reply
      .code(code)
      .header('content-type', 'image/svg+xml; charset=utf-8')
      .header('cache-control', code === 200 ? `public, max-age=${maxAge}, s-maxage=${maxAge}` : 'no-store')
      .header('x-content-type-options', 'nosniff')
      // An SVG opened on its own is a document: it may run nothing and load nothing.
      .header('content-security-policy', "default-src 'none'; sandbox")
      .send(svg);

  /** The service of the request when the caller may see it, else the answer already sent. */
  const gate = (request: FastifyRequest, reply: FastifyReply, label: string): string | null => {
    const { service } = request.params as { service: string };
    const allowed =
      !deps.readsProtected() ||
      onPublicPage(service) ||
      (deps.serverToken !== undefined && bearerMatches(request.headers.authorization, deps.serverToken)) ||
      deps.readAllowed?.(request.headers.authorization) === true;
    if (!allowed) {
      reply.header('www-authenticate', 'Bearer'); // as every 401 of the API says
      send(reply, 401, renderBadge(label, 'token needed', 'grey'), 0);
      return null;
    }
    if (!deps.mesh.has(service)) {
      send(reply, 404, renderBadge(label, 'no such service', 'grey'), 0);
      return null;
    }
    return service;
  };

  const status = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const service = gate(request, reply, (request.params as { service: string }).service);
    if (service === null) return reply;
    const { message, color } = STATUS_BADGE[deps.mesh.state(service).status];
    return send(reply, 200, renderBadge(service, message, color), MAX_AGE.status);
  };

  const uptime = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const periodText = (request.query as { period?: string }).period ?? '30d';
    const period = parsePeriod(periodText);
    const label = `uptime ${period === undefined ? '' : periodText}`.trim();
    if (period === undefined) return send(reply, 400, renderBadge('uptime', `bad period (use e.g. 30d, max ${MAX_DAYS}d)`, 'grey'), 0);
    const service = gate(request, reply, label);
    if (service === null) return reply;
    const p = await deps.uptime.period(service, period, deps.clock.now());
    if (p === null) return send(reply, 200, renderBadge(label, 'n/a', 'grey'), MAX_AGE.uptime);
    // Floored, so 99.996 never shows as a perfect 100.00%.
    const text = p >= 100 ? '100%' : `${(Math.floor(p * 100) / 100).toFixed(2)}%`;
    return send(reply, 200, renderBadge(label, text, uptimeColor(p)), MAX_AGE.uptime);
  };

  const latency = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const service = gate(request, reply, 'latency');
    if (service === null) return reply;
    const l = deps.mesh.latency(service, deps.clock.now(), LATENCY_MINUTES);
    if (!l) return send(reply, 200, renderBadge('latency', 'n/a', 'grey'), MAX_AGE.latency);
    const ms = l.avgMs;
    const text = ms < 10 ? `${ms.toFixed(1)} ms` : ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
    return send(reply, 200, renderBadge('latency', text, ms < 200 ? 'green' : ms < 1000 ? 'yellow' : 'red'), MAX_AGE.latency);
  };

  app.get('/badge/:service/status.svg', publicRoute(status), status);
  app.get('/badge/:service/uptime.svg', publicRoute(uptime), uptime);
  app.get('/badge/:service/latency.svg', publicRoute(latency), latency);
}
