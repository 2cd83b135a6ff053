/**
 * The analysis routes (a server extension the daemon registers when it runs
 * the analysis): trend, forecast, anomalies and SLO of a service, an
 * instance or a check. Ids with slashes go in as path segments or
 * URL-encoded in one, as in the history routes. The server's read guard
 * (protect_reads) covers them like every API read.
 *
 * | route | headline series |
 * |---|---|
 * | `GET /api/v1/services/:service/analysis` | score (trend combined from its instances'), SLO |
 * | `GET /api/v1/instances/:service/:id/analysis`, `/api/v1/instances/:id/analysis` | score |
 * | `GET /api/v1/checks/:service/:instance/:name/analysis`, `/api/v1/checks/:id/analysis` | latency_ms |
 */
import type { FastifyInstance } from 'fastify';
import { HealthmeshError } from '../core/errors.js';
import type { AnalysisAnswer } from '../wiring/analysis-views.js';

/** What the routes ask (src/wiring/analysis.ts answers). */
export interface AnalysisRoutesDeps {
  /** Undefined when the service is not configured or registered. */
  service(name: string): Promise<AnalysisAnswer | undefined>;
  /** `key` is service/id or an id unique in the mesh; undefined when unknown. */
  instance(key: string): Promise<AnalysisAnswer | undefined>;
  /** Undefined when no such check runs. */
  check(id: string): Promise<AnalysisAnswer | undefined>;
}

export function registerAnalysisRoutes(app: FastifyInstance, deps: AnalysisRoutesDeps): void {
  const found = (answer: AnalysisAnswer | undefined, what: string): AnalysisAnswer => {
    if (!answer) throw new HealthmeshError('not_found', `no ${what}`);
    return answer;
  };
  app.get<{ Params: { service: string } }>('/api/v1/services/:service/analysis', async (req) =>
    found(await deps.service(req.params.service), `service "${req.params.service}"`),
  );
  const instance = async (key: string) => found(await deps.instance(key), `instance "${key}" (use service/id when ids repeat across services)`);
  app.get<{ Params: { service: string; id: string } }>('/api/v1/instances/:service/:id/analysis', async (req) =>
    instance(`${req.params.service}/${req.params.id}`),
  );
  app.get<{ Params: { id: string } }>('/api/v1/instances/:id/analysis', async (req) => instance(req.params.id));
  const check = async (id: string) => found(await deps.check(id), `check "${id}" (ids are service/instance/name)`);
  app.get<{ Params: { service: string; instance: string; name: string } }>('/api/v1/checks/:service/:instance/:name/analysis', async (req) =>
    check(`${req.params.service}/${req.params.instance}/${req.params.name}`),
  );
  app.get<{ Params: { id: string } }>('/api/v1/checks/:id/analysis', async (req) => check(req.params.id));
}
