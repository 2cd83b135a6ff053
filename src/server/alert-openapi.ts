/**
 * OpenAPI entries of the alert routes (alert-routes.ts): the silence body
 * from the zod schema that validates it, the answers described.
 */
import { z } from 'zod';
import { silenceBody } from './alert-routes.js';

const ok = (description: string) => ({ description });
const page = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
  { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'nextCursor of the previous page' },
];
const list = (name: string, values: string[]) => ({ name, in: 'query', schema: { type: 'string' }, description: `comma-separated: ${values.join(', ')}` });

/** `components.schemas` entries. */
export function alertOpenApiSchemas(): Record<string, unknown> {
  return { Silence: z.toJSONSchema(silenceBody, { io: 'input', unrepresentable: 'any' }) };
}

/** `paths` entries. */
export function alertOpenApiPaths(): Record<string, unknown> {
  return {
    '/api/v1/alerts': {
      get: {
        summary: 'Alerts (pending, firing, resolved), newest first, without their timelines',
        parameters: [
          ...page,
          list('state', ['pending', 'firing', 'resolved']),
          list('level', ['info', 'warning', 'critical']),
          { name: 'rule', in: 'query', schema: { type: 'string' } },
          { name: 'service', in: 'query', schema: { type: 'string' } },
        ],
        responses: { 200: ok('{ items, nextCursor }') },
      },
    },
    '/api/v1/alerts/{id}': {
      get: {
        summary: 'One alert with its timeline (fired, notified where and when, suppressed by what, resolved)',
        responses: { 200: ok('the alert'), 404: ok('unknown') },
      },
    },
    '/api/v1/silences': {
      get: { summary: 'Silences from the config and the API', responses: { 200: ok('{ items }') } },
      post: {
        summary: 'Create a silence (matchers with ends_at or duration)',
        security: [{ bearer: [] }],
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Silence' } } } },
        responses: { 201: ok('the silence'), 400: ok('the field at fault'), 401: ok('token') },
      },
    },
    '/api/v1/silences/{id}': {
      delete: {
        summary: 'Expire a silence made over the API',
        security: [{ bearer: [] }],
        responses: { 204: ok('gone'), 400: ok('from the config file'), 404: ok('unknown') },
      },
    },
    '/api/v1/notifiers': {
      get: { summary: 'Each notifier: queue depth, delivered, dead letters, last error (never its settings)', responses: { 200: ok('{ items }') } },
    },
  };
}
