import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { HealthmeshError } from '../core/errors.js';

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
 * A zod issue path as a field name: dotted names, [n] for indexes, and
 * ["key"] for a key that is not a plain name (so `matchers[" "]` shows
 * which key, instead of `matchers. `).
 */
function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'symbol') continue;
    else if (/^[A-Za-z_$][\w$-]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/**
 * The one place errors become HTTP answers: bad input names the field
 * (400), typed errors map by code, anything else is a 500 without details.
 */
export function errorHandler(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof ZodError) {
    // An issue of the whole input (an unknown key of a strict object) is about the query of a GET, the body otherwise.
    const whole = request.method === 'GET' ? '(query)' : '(body)';
    const issues = err.issues.map((i) => ({ path: fieldPath(i.path), message: i.message }));
    reply.code(400).send({
      error: 'invalid_body',
      message: issues.map((i) => `${i.path || whole}: ${i.message}`).join('; '),
      issues,
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
  if (fe.code?.startsWith('FST_ERR_CTP_') && fe.statusCode === 400) {
    // The body could not be parsed (not JSON, empty with a JSON content type): name it.
    reply.code(400).send({ error: 'invalid_body', message: `(body): ${fe.message}` });
    return;
  }
  if (fe.code === 'FST_STATIC_FORBIDDEN_PATH') {
    reply.code(403).send({ error: 'forbidden', message: '(path): not a file the dashboard serves (no "..", "\\" or NUL in asset paths)' });
    return;
  }
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
