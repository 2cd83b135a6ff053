import { z } from 'zod';
import { registrationSchema } from '../registry/registry.js';
import { webOpenApiPaths } from './web-openapi.js';

/** Body of PUT /api/v1/checks/:id/ttl. */
export const ttlBodySchema = z.strictObject({
  status: z.enum(['pass', 'warn', 'fail']),
  note: z.string().max(4096).optional(),
});

/** Outcomes of real requests, reported by a client that balances on its own (POST …/balancer/reports). */
export const balancerReportsSchema = z.strictObject({
  reports: z
    .array(
      z.strictObject({
        instance: z.string().min(1),
        ok: z.boolean(),
        latency_ms: z.number().min(0).max(3_600_000),
        status: z.number().int().min(100).max(599).optional().meta({ description: 'HTTP status; leave out for a transport failure (counts as 503)' }),
      }),
    )
    .min(1)
    .max(1000),
});

const json = (schema: z.ZodType): unknown => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

/**
 * The OpenAPI document, generated from the same zod schemas that validate
 * the bodies, so the two cannot drift apart.
 */
export function buildOpenApi(version: string): unknown {
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const ok = (description: string) => ({ description });
  const page = [
    { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
    { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'nextCursor of the previous page' },
  ];
  return {
    openapi: '3.1.0',
    info: { title: 'healthmesh', version },
    components: {
      schemas: { Registration: json(registrationSchema), TtlUpdate: json(ttlBodySchema), BalancerReports: json(balancerReportsSchema) },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
    paths: {
      '/health': { get: { summary: 'Mesh status (application/health+json); 503 when UNHEALTHY', responses: { 200: ok('pass or warn'), 503: ok('fail') } } },
      '/livez': { get: { summary: 'The daemon is alive', responses: { 200: ok('alive') } } },
      '/readyz': { get: { summary: 'The daemon is ready', responses: { 200: ok('ready'), 503: ok('starting or stopping') } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: ok('text exposition') } } },
      '/api/v1/services': { get: { summary: 'Services with status, score and instance counts', parameters: page, responses: { 200: ok('a page') } } },
      '/api/v1/services/{service}': {
        get: {
          summary: 'One service, with a page of its instances in id order (nextCursor for the next)',
          parameters: page,
          responses: { 200: ok('the service'), 404: ok('unknown') },
        },
      },
      '/api/v1/services/{service}/instances': {
        get: {
          summary:
            "Instances for a load balancer, in id order. status=healthy: HEALTHY only; status=passing: HEALTHY and DEGRADED. Blocking query with index and wait: returns when this service's index moves.",
          parameters: [
            ...page,
            { name: 'status', in: 'query', schema: { enum: ['any', 'healthy', 'passing'] } },
            {
              name: 'index',
              in: 'query',
              schema: { type: 'integer' },
              description: "Return when the service's index is no longer this (X-Healthmesh-Index of the previous answer)",
            },
            { name: 'wait', in: 'query', schema: { type: 'string' }, description: 'Longest wait, e.g. 30s (max 5m)' },
          ],
          responses: { 200: ok("a page; header X-Healthmesh-Index: the service's index") },
        },
      },
      '/api/v1/services/{service}/balancer': {
        get: {
          summary: 'Live balancer state: panic, healthy share, per instance rotation, weights, breaker, ejection with its figures',
          responses: { 200: ok('the state'), 404: ok('unknown service') },
        },
      },
      '/api/v1/services/{service}/balancer/reports': {
        post: {
          summary: 'Report outcomes of real requests (passive health) for a client that balances on its own',
          security: [{ bearer: [] }],
          requestBody: { content: { 'application/json': { schema: ref('BalancerReports') } } },
          responses: { 202: ok('applied'), 400: ok('invalid, the field is named'), 404: ok('unknown service') },
        },
      },
      '/api/v1/instances': {
        post: {
          summary: 'Register an instance',
          security: [{ bearer: [] }],
          requestBody: { content: { 'application/json': { schema: ref('Registration') } } },
          responses: { 201: ok('registered'), 400: ok('invalid, the field is named') },
        },
      },
      '/api/v1/instances/{id}': {
        get: { summary: 'One instance (id or service/id)', responses: { 200: ok('the instance'), 404: ok('unknown') } },
        delete: {
          summary: 'Deregister an instance',
          security: [{ bearer: [] }],
          responses: { 204: ok('gone'), 404: ok('unknown'), 409: ok('comes from the config file') },
        },
      },
      '/api/v1/checks': { get: { summary: 'Checks with their state', parameters: page, responses: { 200: ok('a page') } } },
      '/api/v1/checks/{id}': { get: { summary: 'One check (id = service/instance/name, URL-encoded or not)', responses: { 200: ok('the check') } } },
      '/api/v1/checks/{id}/history': {
        get: {
          summary: 'Stored results, newest first',
          parameters: [
            { name: 'from', in: 'query', schema: { type: 'number' }, description: 'epoch ms, inclusive' },
            { name: 'to', in: 'query', schema: { type: 'number' }, description: 'epoch ms, exclusive' },
            ...page,
          ],
          responses: { 200: ok('a page') },
        },
      },
      '/api/v1/checks/{id}/ttl': {
        put: {
          summary: 'Heartbeat of a ttl check',
          security: [{ bearer: [] }],
          requestBody: { content: { 'application/json': { schema: ref('TtlUpdate') } } },
          responses: { 200: ok('accepted'), 409: ok('not a ttl check') },
        },
      },
      '/api/v1/events': { get: { summary: 'Server-Sent Events of transitions; Last-Event-ID resumes', responses: { 200: ok('text/event-stream') } } },
      '/api/v1/reload': {
        post: {
          summary: 'Reload the config file (validated first)',
          security: [{ bearer: [] }],
          responses: { 200: ok('reloaded'), 400: ok('invalid config; the old one keeps running') },
        },
      },
      ...webOpenApiPaths(),
    },
  };
}
