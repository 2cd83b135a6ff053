import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCompress from '@fastify/compress';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { realClock, type Clock } from '../core/clock.js';
import type { StatusPagesConfig } from '../config/status-pages.js';
import { hasScope } from '../security/tokens.js';
import type { ApiDeps } from './api.js';
import { registerBadges } from './web-badges.js';
import { WebFeed } from './web-feed.js';
import { ServiceIncidents } from './web-incidents.js';
import { MeshView } from './web-mesh.js';
import { answerPublicRoutesFirst, publicRoute } from './web-public.js';
import { registerWebRoutes } from './web-routes.js';
import { Sparklines } from './web-sparklines.js';
import { warmSparklines, type SparklineHistory } from './web-sparkline-warmup.js';
import { registerStatusPages } from './web-status-pages.js';
import { StoredIncidents, type TransitionStore } from './web-stored-incidents.js';
import { UptimeDays, type UptimeStore } from './web-uptime.js';

/** What the dashboard, status pages and badges need beyond the API's dependencies. */
export interface WebDeps {
  /** The status pages of the current config (a function: a reload changes them). */
  statusPages?: () => StatusPagesConfig;
  /** History for per-day uptime and status-page incidents; without it uptime figures are null ("n/a"). */
  store?: UptimeStore & Partial<TransitionStore>;
  /** Where the sparklines' hour before a restart is read back from, and the services to read (web-sparkline-warmup.ts). */
  history?: { store: SparklineHistory; services: () => readonly string[]; onError: (err: unknown) => void };
  clock?: Clock;
  /** The built dashboard (default: dist/web of this package). */
  assetsDir?: string;
}

/** The server's dependencies with the web part: what buildServer takes. */
export type ServerDeps = ApiDeps & { web?: WebDeps };

/**
 * Content-Security-Policy of the dashboard and status pages: everything from
 * this origin, nothing inline, nothing from elsewhere (no CDN, no web font).
 * Inline style *attributes* are not needed: Preact and uPlot set styles
 * through the CSSOM, which style-src does not govern.
 */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Hashed build output may be cached for a year: a new build has new names. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The package's dist/web, found from this file (src/server/ under vitest, dist/src/server/ when built). */
export function defaultAssetsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(dir, 'dist', 'web');
}

/**
 * The web face of the daemon: the dashboard at `/` (assets precompressed at
 * build time, hashed ones immutable, HTML revalidated), status pages at
 * `/status/:slug`, badges at `/badge/…`, and the dashboard's own routes
 * under `/api/v1/web/`. Call it before registerApi: its public routes must
 * answer ahead of the API's read guard (see web-public.ts).
 */
export function registerWeb(app: FastifyInstance, deps: ServerDeps): void {
  const web = deps.web ?? {};
  const clock = web.clock ?? realClock;
  const pages = web.statusPages ?? (() => ({}));
  const readsProtected = (): boolean => Boolean((deps.token || (deps.security?.tokens?.size ?? 0) > 0) && deps.protectReads);
  const sparklines = new Sparklines();
  const incidents = new ServiceIncidents();
  const mesh = new MeshView(deps.registry, deps.rollup, deps.engine, sparklines, clock);
  const uptime = new UptimeDays(web.store, (service) => deps.registry.instancesOf(service).flatMap((r) => r.checks.map((c) => c.id)));
  const feed = new WebFeed({ transitions: deps.transitions, bus: deps.engine.bus, mesh, rollup: deps.rollup, sparklines, incidents, clock });
  feed.start();
  if (web.history) {
    const { store, services, onError } = web.history;
    warmSparklines(sparklines, store, services(), clock.now()).catch(onError);
  }
  // preClose runs before open connections are cut: streams end cleanly, then the feed stops.
  app.addHook('preClose', async () => feed.endClients());
  app.addHook('onClose', async () => feed.stop());
  answerPublicRoutesFirst(app, readsProtected);

  const assets = web.assetsDir ?? defaultAssetsDir();
  app.register(async (scope) => {
    // Only this scope compresses: the API's answers and its SSE stream are left as they were.
    await scope.register(fastifyCompress, { global: true, threshold: 1024, encodings: ['br', 'gzip'] });
    await scope.register(fastifyStatic, { root: assets, serve: false, preCompressed: true, cacheControl: false, etag: true, lastModified: false });

    const page =
      (file: string) =>
      async (_request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
        securityHeaders(reply);
        if (!existsSync(join(assets, file))) {
          return reply
            .code(503)
            .header('cache-control', 'no-store')
            .type('text/plain; charset=utf-8')
            .send('The dashboard is not built: run `npm run build:web`.\n');
        }
        // no-cache: revalidated each time (ETag), so a new build shows at once while its assets stay cached.
        return reply.header('cache-control', 'no-cache').sendFile(file, assets);
      };
    const asset = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      reply.header('cache-control', IMMUTABLE).header('x-content-type-options', 'nosniff');
      return reply.sendFile((request.params as { '*': string })['*'], join(assets, 'assets'));
    };
    const index = page('index.html');
    const status = page('status.html');
    scope.get('/', publicRoute(index), index);
    scope.get('/status/:slug', publicRoute(status), status);
    scope.get('/assets/*', publicRoute(asset), asset);

    registerWebRoutes(scope, { mesh, feed, uptime, clock, meshStatus: () => deps.rollup.meshStatus() });
    // Scoped tokens with read open what the single token opens (security/tokens.ts).
    const tokens = deps.security?.tokens;
    const readAllowed = tokens
      ? (authorization: string | undefined) => {
          const p = tokens.authenticate(authorization);
          return p !== null && hasScope(p, 'read');
        }
      : undefined;
    const store = web.store;
    const storedIncidents = store?.queryTransitions ? new StoredIncidents({ queryTransitions: (q) => store.queryTransitions!(q) }) : incidents;
    registerStatusPages(scope, { pages, mesh, uptime, incidents: storedIncidents, clock, serverToken: deps.token, ...(readAllowed ? { readAllowed } : {}) });
    registerBadges(scope, { mesh, uptime, clock, pages, readsProtected, serverToken: deps.token, ...(readAllowed ? { readAllowed } : {}) });
  });
}

function securityHeaders(reply: FastifyReply): void {
  reply
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin');
}
