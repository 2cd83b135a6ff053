import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { HealthmeshError } from '../core/errors.js';
import { formatPath } from '../config/load.js';

const STATUS_OF_CODE: Record<string, number> = {
  not_found: 404,
  conflict: 409,
  not_ttl: 409,
  invalid: 400,
  usage: 400,
  unauthorized: 401,
  forbidden: 403,
  limit_exceeded: 429,
  config_invalid: 400,
};

/**
 * The one place errors become HTTP answers: bad input names the field
 * (400), typed errors map by code, anything else is a 500 without details.
 */
export function errorHandler(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof ZodError) {
    reply.code(400).send({
      error: 'invalid_body',
      message: err.issues.map((i) => `${formatPath(i.path.filter((p) => typeof p !== 'symbol') as Array<string | number>) || '(body)'}: ${i.message}`).join('; '),
      issues: err.issues.map((i) => ({ path: formatPath(i.path.filter((p) => typeof p !== 'symbol') as Array<string | number>), message: i.message })),
    });
    return;
  }
  if (err instanceof HealthmeshError) {
    reply.code(STATUS_OF_CODE[err.code] ?? 400).send({ error: err.code, message: err.message });
    return;
  }
  if (err instanceof TypeError && request.method !== 'GET') {
    // Library calls reject bad values with TypeError (e.g. a heartbeat status): that is bad input.
    reply.code(400).send({ error: 'invalid_body', message: err.message });
    return;
  }
  const fe = err as FastifyError;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = request.routeOptions.bodyLimit;
    const name = request.routeOptions.url === '/api/v1/instances' ? 'registration.max_body_bytes' : 'the server body limit';
    reply.code(413).send({ error: 'body_too_large', message: `(body): larger than ${name} (${limit} bytes)` });
    return;
  }
  if (fe.statusCode && fe.statusCode < 500) {
    reply.code(fe.statusCode).send({ error: fe.code ?? 'bad_request', message: fe.message });
    return;
  }
  request.log.error({ err }, 'request failed');
  reply.code(500).send({ error: 'internal', message: 'internal error' });
}
