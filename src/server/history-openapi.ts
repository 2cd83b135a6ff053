/**
 * OpenAPI entries of the history routes (history-routes.ts), with their
 * response schemas written in zod like the request bodies of openapi.ts.
 */
import { z } from 'zod';
import { MAX_BUCKETS, MAX_TRANSITIONS_PAGE } from './history-routes.js';

const status = z.enum(['HEALTHY', 'DEGRADED', 'UNHEALTHY', 'UNKNOWN']);
const perStatus = z.strictObject({ HEALTHY: z.number(), DEGRADED: z.number(), UNHEALTHY: z.number(), UNKNOWN: z.number() });
const score = z.number().min(0).max(100).nullable();

export const rollupsResponse = z.strictObject({
  id: z.string().meta({ description: 'Check id, service/instance, or service' }),
  step: z.enum(['1m', '1h']),
  from: z.number().meta({ description: 'Start of the first bucket asked for, epoch ms' }),
  to: z.number().meta({ description: 'End of the range, epoch ms (exclusive)' }),
  items: z.array(
    z.strictObject({
      bucketStart: z.number().meta({ description: 'epoch ms' }),
      count: z.number().int().meta({ description: 'Results in the bucket (of every check of an instance or service)' }),
      failures: z.number().int().meta({ description: 'Results that were not HEALTHY' }),
      minMs: z.number(),
      avgMs: z.number(),
      p95Ms: z
        .number()
        .meta({ description: "Nearest-rank p95 of all the results in the bucket (an instance's or service's too, never merged from its checks' p95s)" }),
      maxMs: z.number(),
      statusCounts: perStatus,
      minScore: score.meta({ description: 'Lowest health score: of the check; of the instance; of any instance (service)' }),
      avgScore: score.meta({ description: "Mean health score: of the check; of the instance; the mean of its instances' (service)" }),
    }),
  ),
});

export const transitionsResponse = z.strictObject({
  items: z.array(
    z.strictObject({
      id: z.number().int().nullable().meta({ description: 'Stored id, also the SSE event id' }),
      level: z.enum(['check', 'instance', 'service']),
      check: z.string().nullable(),
      service: z.string(),
      instance: z.string().nullable(),
      from: status,
      to: status,
      reason: z.string(),
      output: z.string(),
      at: z.number().meta({ description: 'epoch ms' }),
    }),
  ),
  nextCursor: z.string().nullable(),
});

export const uptimeResponse = z.strictObject({
  service: z.string(),
  instance: z.string().nullable(),
  from: z.number(),
  to: z.number().meta({ description: 'End of the range (now at the latest), epoch ms' }),
  uptimePercent: z.number().nullable().meta({ description: '(HEALTHY + DEGRADED) time / known time × 100; null when nothing is known' }),
  knownMs: z.number(),
  unknownMs: z.number().meta({ description: 'UNKNOWN time, and time before anything was known or kept' }),
  ms: perStatus.meta({ description: 'Time in each status, ms' }),
  incidents: z.number().int().meta({ description: 'Incidents that began in the range (status became UNHEALTHY)' }),
  recoveries: z.number().int().meta({ description: 'Incidents that ended in the range (HEALTHY or DEGRADED again)' }),
  mttrMs: z.number().nullable().meta({ description: 'Mean length of the incidents that ended in the range' }),
  openIncidentSince: z.number().nullable().meta({ description: 'Start of the incident still open at `to`' }),
  maintenanceMs: z.number().optional().meta({ description: 'With exclude_maintenance: time inside maintenance windows, counted in no status' }),
  excludeMaintenance: z.boolean().optional(),
});

const json = (schema: z.ZodType): unknown => z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const ok = (description: string, schema: string) => ({ description, content: { 'application/json': { schema: ref(schema) } } });
const bad = { description: 'a parameter is invalid (the message names it)' };
const time = (name: 'from' | 'to', def: string) => ({
  name,
  in: 'query',
  schema: { type: 'string' },
  description: `${name === 'from' ? 'Inclusive' : 'Exclusive'} bound: epoch ms, ISO 8601 (2024-05-01T12:00:00Z) or a duration back from now (24h, 7d); default ${def}`,
});
const step = { name: 'step', in: 'query', schema: { enum: ['1m', '1h'], default: '1m' }, description: `Bucket length; at most ${MAX_BUCKETS} buckets a query` };
const rollupParams = [step, time('from', 'to − 24h (1m) or to − 7d (1h)'), time('to', 'now')];
const uptimeParams = [
  time('from', 'to − 30d'),
  time('to', 'now (a later to ends now)'),
  {
    name: 'exclude_maintenance',
    in: 'query',
    schema: { type: 'boolean', default: false },
    description: 'Leave out time inside maintenance windows (alerts.maintenance) covering the subject',
  },
];

/** The history routes' paths, keyed like openapi.ts's. */
export const historyPaths = {
  '/api/v1/checks/{id}/rollups': {
    get: { summary: 'Minute or hour rollups of one check', parameters: rollupParams, responses: { 200: ok('rollups, oldest first', 'Rollups'), 400: bad } },
  },
  '/api/v1/instances/{id}/rollups': {
    get: {
      summary: "Minute or hour rollups of one instance (all its checks' results); id is service/id or a unique id",
      parameters: rollupParams,
      responses: { 200: ok('rollups, oldest first', 'Rollups'), 400: bad, 404: { description: 'unknown instance' } },
    },
  },
  '/api/v1/services/{service}/rollups': {
    get: {
      summary: "Minute or hour rollups of one service (all its checks' results)",
      parameters: rollupParams,
      responses: { 200: ok('rollups, oldest first', 'Rollups'), 400: bad },
    },
  },
  '/api/v1/transitions': {
    get: {
      summary: 'Stored transitions of checks, instances and services, newest first',
      parameters: [
        { name: 'service', in: 'query', schema: { type: 'string' }, description: "The service's own, its instances' and its checks' transitions" },
        {
          name: 'instance',
          in: 'query',
          schema: { type: 'string' },
          description: "service/id, or an instance name in any service: its own and its checks' transitions",
        },
        { name: 'check', in: 'query', schema: { type: 'string' }, description: "One check's transitions (alone, without service or instance)" },
        { name: 'level', in: 'query', schema: { type: 'string' }, description: 'Comma-separated levels to keep: check, instance, service' },
        time('from', 'none'),
        time('to', 'none'),
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_TRANSITIONS_PAGE, default: 100 } },
        { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'nextCursor of the previous page' },
      ],
      responses: { 200: ok('a page', 'Transitions'), 400: bad },
    },
  },
  '/api/v1/services/{service}/uptime': {
    get: {
      summary: 'Uptime of a service from its transitions, exact for any range',
      parameters: uptimeParams,
      responses: { 200: ok('the uptime', 'Uptime'), 400: bad },
    },
  },
  '/api/v1/instances/{id}/uptime': {
    get: {
      summary: 'Uptime of an instance from its transitions, exact for any range; id is service/id or a unique id',
      parameters: uptimeParams,
      responses: { 200: ok('the uptime', 'Uptime'), 400: bad, 404: { description: 'unknown instance' } },
    },
  },
};

/** The OpenAPI document (openapi.ts buildOpenApi) with the history routes and their response schemas added. */
export function withHistoryApi(doc: unknown): unknown {
  if (!isRecord(doc)) return doc;
  const components = isRecord(doc.components) ? doc.components : {};
  const schemas = isRecord(components.schemas) ? components.schemas : {};
  return {
    ...doc,
    components: {
      ...components,
      schemas: { ...schemas, Rollups: json(rollupsResponse), Transitions: json(transitionsResponse), Uptime: json(uptimeResponse) },
    },
    paths: { ...(isRecord(doc.paths) ? doc.paths : {}), ...historyPaths },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
