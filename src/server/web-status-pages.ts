import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.js';
import { HealthmeshError } from '../core/errors.js';
import { severity, type HealthStatus } from '../core/status.js';
import type { StatusPageConfig, StatusPagesConfig } from '../config/status-pages.js';
import { bearerMatches } from './auth.js';
import type { IncidentSource } from './web-stored-incidents.js';
import type { MeshView } from './web-mesh.js';
import { publicRoute } from './web-public.js';
import type { UptimeDays } from './web-uptime.js';

/** Days of uptime bars a status page shows. */
export const STATUS_PAGE_DAYS = 90;
/** Past incidents a status page lists. */
const HISTORY_LIMIT = 20;

export interface StatusPageDeps {
  pages: () => StatusPagesConfig;
  mesh: MeshView;
  uptime: UptimeDays;
  /** The store's service transitions when it keeps them, else what the daemon saw since it started. */
  incidents: IncidentSource;
  clock: Clock;
  /** The server token, for pages with `public: false` and no token of their own. */
  serverToken?: string;
  /** Whether an Authorization header carries a token with the read scope (server.tokens): opens such pages too. */
  readAllowed?: (authorization: string | undefined) => boolean;
}

/** What a status page's data route answers: its group and nothing else (no causes, which may name other services). */
export interface StatusPageData {
  slug: string;
  title: string;
  description: string | null;
  generatedAt: number;
  /** The worst status in the group. */
  overall: HealthStatus;
  uptimeSource: string;
  services: Array<{ name: string; status: HealthStatus; uptimePercent: number | null; days: Array<{ start: number; uptimePercent: number | null }> }>;
  incidents: {
    current: Array<{ service: string; status: HealthStatus; since: number | null }>;
    history: Array<{ service: string; start: number; end: number; durationMs: number }>;
  };
}

/**
 * GET /api/v1/status/:slug — the data of one status page. Public unless the
 * page says `public: false`; then it needs the page's token (or the
 * server's). An unknown page and a page whose token is missing answer alike
 * in shape (404 / 401), and no answer names a service outside the page.
 */
export function registerStatusPages(app: FastifyInstance, deps: StatusPageDeps): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const { slug } = request.params as { slug: string };
    const page = deps.pages()[slug];
    if (!page) throw new HealthmeshError('not_found', `no status page "${slug}"`);
    if (!page.public) {
      const token = page.token ?? deps.serverToken;
      const byToken = token !== undefined && bearerMatches(request.headers.authorization, token);
      // A page with a token of its own opens with that token only.
      const byScope = page.token === undefined && deps.readAllowed?.(request.headers.authorization) === true;
      if (!byToken && !byScope) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .header('cache-control', 'no-store')
          .send({ error: 'unauthorized', message: 'this status page needs its token' });
      }
    }
    reply.header('cache-control', page.public ? 'public, max-age=30' : 'private, no-store');
    return statusPageData(slug, page, deps);
  };
  app.get('/api/v1/status/:slug', publicRoute(handler), handler);
}

async function statusPageData(slug: string, page: StatusPageConfig, deps: StatusPageDeps): Promise<StatusPageData> {
  const now = deps.clock.now();
  const services = await Promise.all(
    page.services.map(async (name) => {
      const status = deps.mesh.has(name) ? deps.mesh.state(name).status : 'UNKNOWN';
      const days = await deps.uptime.days(name, STATUS_PAGE_DAYS, now);
      return {
        name,
        status,
        uptimePercent: await deps.uptime.period(name, STATUS_PAGE_DAYS * 86_400_000, now),
        days: days.map((d) => ({ start: d.start, uptimePercent: d.uptimePercent })),
      };
    }),
  );
  const overall = services.reduce<HealthStatus>((worst, s) => (severity(s.status) > severity(worst) ? s.status : worst), 'HEALTHY');
  const incidents = await deps.incidents.of(page.services, HISTORY_LIMIT + page.services.length, now);
  const openSince = new Map(incidents.filter((i) => i.end === null).map((i) => [i.service, i.start]));
  return {
    slug,
    title: page.title,
    description: page.description ?? null,
    generatedAt: Math.round(now),
    overall: services.length ? overall : 'UNKNOWN',
    uptimeSource: deps.uptime.source,
    services,
    incidents: {
      current: services
        .filter((s) => s.status === 'UNHEALTHY' || s.status === 'DEGRADED')
        .map((s) => ({ service: s.name, status: s.status, since: openSince.get(s.name) ?? null })),
      history: incidents
        .filter((i): i is typeof i & { end: number } => i.end !== null)
        .slice(0, HISTORY_LIMIT)
        .map((i) => ({ service: i.service, start: i.start, end: i.end, durationMs: i.end - i.start })),
    },
  };
}
