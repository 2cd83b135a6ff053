import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { HealthmeshError } from '../core/errors.js';
import { streamWebEvents } from './web-events.js';
import type { WebFeed } from './web-feed.js';
import type { MeshView } from './web-mesh.js';
import { MAX_DAYS, type UptimeDays } from './web-uptime.js';

/** What the dashboard's own routes read. */
export interface WebRouteDeps {
  mesh: MeshView;
  feed: WebFeed;
  uptime: UptimeDays;
  clock: Clock;
  meshStatus: () => string;
}

const servicePage = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

const uptimeQuery = z.object({ days: z.coerce.number().int().min(1).max(MAX_DAYS).default(30) });

/**
 * Routes made for the dashboard, so that its views cost one request each at
 * 10,000 instances: the whole mesh in one answer, one service with its
 * instances' latency, per-day uptime, and the enriched event stream. They are
 * reads like the API's and sit behind the same token rule.
 */
export function registerWebRoutes(app: FastifyInstance, deps: WebRouteDeps): void {
  const { mesh, feed, uptime, clock } = deps;

  app.get('/api/v1/web/summary', async (_request, reply) => {
    const now = clock.now();
    reply.header('cache-control', 'no-store');
    // Read the id first: a transition after it is either in this state or replayed by the stream, never lost.
    const lastEventId = feed.lastEventId;
    return {
      at: Math.round(now),
      lastEventId,
      mesh: deps.meshStatus(),
      uptimeSource: uptime.source,
      services: mesh.names().map((name) => mesh.summary(name, now)),
    };
  });

  app.get<{ Params: { service: string } }>('/api/v1/web/services/:service', async (request, reply) => {
    const name = request.params.service;
    if (!mesh.has(name)) throw new HealthmeshError('not_found', `no service "${name}"`);
    const q = servicePage.parse(request.query);
    const now = clock.now();
    const all = mesh.instances(name);
    reply.header('cache-control', 'no-store');
    return {
      ...mesh.summary(name, now),
      dependents: mesh.dependents(name),
      latency: feedLatency(deps, name, now),
      total: all.length,
      offset: q.offset,
      instances: all.slice(q.offset, q.offset + q.limit),
    };
  });

  app.get<{ Params: { service: string } }>('/api/v1/web/services/:service/uptime', async (request, reply) => {
    const name = request.params.service;
    if (!mesh.has(name)) throw new HealthmeshError('not_found', `no service "${name}"`);
    const q = uptimeQuery.parse(request.query);
    reply.header('cache-control', 'no-store');
    return { service: name, source: uptime.source, days: await uptime.days(name, q.days, clock.now()) };
  });

  app.get('/api/v1/web/events', (request, reply) => streamWebEvents(request, reply, feed));
}

/** Latency of the last 5 minutes of results, ms. */
function feedLatency(deps: WebRouteDeps, service: string, now: number): { avgMs: number; maxMs: number; count: number } | null {
  const l = deps.mesh.latency(service, now, 5);
  return l && { avgMs: Math.round(l.avgMs * 10) / 10, maxMs: Math.round(l.maxMs * 10) / 10, count: l.count };
}
