/**
 * The alerting API as a fastify plugin over the AlertsApi interface (not yet
 * registered by the daemon):
 *
 * | route | what |
 * |---|---|
 * | `GET /api/v1/alerts?state=&level=&rule=&service=&limit=&cursor=` | alerts, newest first, without timelines |
 * | `GET /api/v1/alerts/:id` | one alert with its timeline |
 * | `GET /api/v1/silences` | silences not yet ended |
 * | `POST /api/v1/silences` | `{matchers, ends_at \| duration, starts_at?, comment?, created_by?}` → 201 (token) |
 * | `DELETE /api/v1/silences/:id` | 204, 404 (token) |
 * | `GET /api/v1/notifiers` | per notifier: kind, queue depth, dead letters, last error; never its settings |
 *
 * Silence changes always need the bearer token (a silence hides alerts):
 * without `server.token` they are refused. Reads need it with
 * `protectReads`. Errors go through the server's one error handler.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AlertsApi } from '../alerts/alerting.js';
import type { AlertRecord } from '../alerts/types.js';
import { parseDuration } from '../config/duration.js';
import { HealthmeshError } from '../core/errors.js';
import { authenticatedBy } from '../security/guard.js';
import { bearerMatches } from './auth.js';

/** What the plugin needs. */
export interface AlertRoutesOptions {
  alerts: AlertsApi;
  /** Bearer token: required for silence changes (refused without one), and for reads with protectReads. */
  token?: string;
  protectReads?: boolean;
  /** Epoch ms now, for `duration` silences (the daemon's Clock). */
  now: () => number;
}

const list = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .transform((s) => s.split(',').filter(Boolean))
    .pipe(z.array(item));

const alertsQuery = z.strictObject({
  state: list(z.enum(['pending', 'firing', 'resolved'])).optional(),
  level: list(z.enum(['info', 'warning', 'critical'])).optional(),
  rule: z.string().optional(),
  service: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().optional(),
});

const time = z.union([z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)), z.number().int()]);

/** Body of POST /api/v1/silences. */
export const silenceBody = z
  .strictObject({
    matchers: z
      .record(
        z.string().min(1),
        z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])),
      )
      .refine((m) => Object.keys(m).length > 0, { message: 'give at least one matcher, e.g. {"service": "api"}' }),
    starts_at: time.optional(),
    ends_at: time.optional(),
    duration: z
      .string()
      .refine((d) => (parseDuration(d) ?? 0) > 0, { message: 'not a duration (use e.g. 30m, 2h)' })
      .optional(),
    comment: z.string().max(1000).optional(),
    created_by: z.string().max(200).optional(),
  })
  .refine((b) => (b.ends_at === undefined) !== (b.duration === undefined), { message: 'give ends_at or duration (one of them)', path: ['ends_at'] });

/** An alert in a list: everything but the timeline. */
function summary(a: AlertRecord): Omit<AlertRecord, 'timeline'> & { timelineEntries: number } {
  const { timeline, ...rest } = a;
  return { ...rest, timelineEntries: timeline.length };
}

/** The alert routes; register with `app.register(alertRoutes, options)`. */
export async function alertRoutes(app: FastifyInstance, options: AlertRoutesOptions): Promise<void> {
  const { alerts } = options;
  const guard = (request: FastifyRequest, mutating: boolean): void => {
    // The server's guard (security/guard.ts) already checked this request's token and scope.
    if (authenticatedBy(request)) return;
    if (!mutating && !options.protectReads) return;
    if (!options.token) {
      if (mutating) throw new HealthmeshError('unauthorized', 'silences over the API need server.token (or HEALTHMESH_API_TOKEN) to be set');
      return;
    }
    if (!bearerMatches(request.headers.authorization, options.token)) throw new HealthmeshError('unauthorized', 'a valid bearer token is required');
  };

  app.get('/api/v1/alerts', async (request) => {
    guard(request, false);
    const q = alertsQuery.parse(request.query);
    const page = await alerts.listAlerts({
      limit: q.limit,
      ...(q.state ? { state: q.state } : {}),
      ...(q.level ? { level: q.level } : {}),
      ...(q.rule ? { rule: q.rule } : {}),
      ...(q.service ? { service: q.service } : {}),
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
    return { items: page.items.map(summary), nextCursor: page.nextCursor };
  });

  app.get<{ Params: { id: string } }>('/api/v1/alerts/:id', async (request) => {
    guard(request, false);
    const alert = await alerts.getAlert(request.params.id);
    if (!alert) throw new HealthmeshError('not_found', `no alert "${request.params.id}"`);
    return alert;
  });

  app.get('/api/v1/silences', async (request) => {
    guard(request, false);
    return { items: await alerts.listSilences() };
  });

  app.post('/api/v1/silences', async (request, reply) => {
    guard(request, true);
    const b = silenceBody.parse(request.body);
    const start = b.starts_at ?? options.now();
    const end = b.ends_at ?? start + parseDuration(b.duration!)!;
    const silence = await alerts.createSilence({
      matchers: b.matchers,
      end,
      ...(b.starts_at !== undefined ? { start: b.starts_at } : {}),
      ...(b.comment !== undefined ? { comment: b.comment } : {}),
      createdBy: b.created_by ?? 'api',
    });
    return reply.code(201).send(silence);
  });

  app.delete<{ Params: { id: string } }>('/api/v1/silences/:id', async (request, reply) => {
    guard(request, true);
    if (!(await alerts.deleteSilence(request.params.id))) throw new HealthmeshError('not_found', `no silence "${request.params.id}"`);
    return reply.code(204).send();
  });

  app.get('/api/v1/notifiers', async (request) => {
    guard(request, false);
    return { items: await alerts.notifierStatus() };
  });
}
