import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { realClock, type Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Scope } from '../config/security.js';
import { auditRecord, writeAudit } from './audit.js';
import type { Redactor } from './secrets.js';
import { FailureLimiter } from './rate-limit.js';
import { accessOf, isReadMethod, type AccessSource, type RouteAccess } from './scopes.js';
import { hasScope, type TokenSet, type Principal } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The token this request was authenticated with, when it needed (or carried) one. */
    principal?: Principal;
  }
}

/** How the server decides who may do what. */
export interface SecurityOptions {
  tokens: TokenSet;
  /** Reads need the read scope (`server.protect_reads`). */
  protectReads: boolean;
  /** /metrics needs the read scope (`metrics.protect`). */
  protectMetrics?: boolean;
  /** Audit lines of mutating calls (none without a logger). */
  logger?: Logger;
  clock?: Clock;
  /** Secrets to keep out of every answer and event stream (security/secrets.ts). */
  secrets?: Redactor;
  /** Failed authentications allowed per client address and window before 429 (default 10 per 1000 ms). */
  failures?: { limit: number; windowMs: number };
}

/** A route as the guard saw it registered, with what it needs. */
export interface GuardedRoute {
  method: string;
  url: string;
  access: RouteAccess;
  source: AccessSource;
}

/** What installSecurity leaves behind: the route table it built. */
export interface SecurityGuard {
  /** Every route registered after the guard, in order. */
  readonly routes: readonly GuardedRoute[];
}

/**
 * Install the API's access rules on a server before its routes: an onRoute
 * hook gives every route (extensions' included) its access from the table,
 * an onRequest hook enforces it, and an onResponse hook writes the audit
 * line of every mutating call. Without any token nothing is enforced (as
 * before tokens existed), but mutating calls are still audited.
 */
export function installSecurity(app: FastifyInstance, options: SecurityOptions): SecurityGuard {
  const routes: GuardedRoute[] = [];
  guards.set(app, { routes });
  const limiter = new FailureLimiter(options.clock ?? realClock, options.failures?.limit ?? 10, options.failures?.windowMs ?? 1000);

  app.addHook('onRoute', (route: RouteOptions) => {
    for (const method of [route.method].flat()) {
      const { access, source } = accessOf(method, route.url, route.config?.access);
      routes.push({ method, url: route.url, access, source });
      // A route with several methods keeps the strictest of them.
      const before = route.config?.access;
      if (source !== 'declared') route.config = { ...route.config, access: before && rank(before) > rank(access) ? before : access };
    }
  });

  const tooManyFailures = (reply: FastifyReply, address: string, waitMs: number) =>
    refuse(
      reply,
      429,
      'too_many_failures',
      `too many failed authentications from ${address}; retry in ${Math.ceil(waitMs / 1000)} s`,
      Math.ceil(waitMs / 1000),
    );
  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config?.access ?? accessOf(request.method, '', undefined).access;
    const address = request.ip;
    if (access === 'public' && request.headers.authorization !== undefined) {
      // A status page or badge checks tokens itself: guessing there is held back by the same limit (counted in onResponse).
      const wait = limiter.retryAfterMs(address);
      if (wait > 0) return tooManyFailures(reply, address, wait);
    }
    const needed = neededScope(access, request.method, options);
    if (needed === null || options.tokens.size === 0) return;
    const wait = limiter.retryAfterMs(address);
    if (wait > 0) return tooManyFailures(reply, address, wait);
    const principal = options.tokens.authenticate(request.headers.authorization);
    if (!principal) {
      limiter.fail(address);
      return refuse(reply, 401, 'unauthorized', 'a valid bearer token is required');
    }
    request.principal = principal;
    if (!hasScope(principal, needed)) {
      return refuse(
        reply,
        403,
        'forbidden',
        `token "${principal.name}" lacks the ${needed} scope that ${request.method} ${request.routeOptions.url ?? request.url.split('?', 1)[0]} needs`,
      );
    }
  });

  const secrets = options.secrets;
  if (secrets) {
    // Serialized answers (JSON, errors, /metrics) pass here; files and compressed bodies are Buffers or streams of no secret.
    app.addHook('onSend', async (_request, _reply, payload) => (typeof payload === 'string' ? secrets.redact(payload) : payload));
    // Event streams write to the socket themselves (a hijacked reply): their text chunks are filtered on the way out.
    app.addHook('onRequest', async (_request, reply) => {
      const raw = reply.raw;
      const write = raw.write;
      raw.write = function (this: typeof raw, chunk: unknown, ...rest: unknown[]) {
        return (write as (...args: unknown[]) => boolean).call(this, typeof chunk === 'string' ? secrets.redact(chunk) : chunk, ...rest);
      } as typeof raw.write;
    });
  }

  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode === 401 && request.headers.authorization !== undefined && request.routeOptions.config?.access === 'public') limiter.fail(request.ip);
  });

  const logger = options.logger;
  if (logger) {
    app.addHook('onResponse', async (request, reply) => {
      if (isReadMethod(request.method)) return;
      writeAudit(logger, auditRecord(request, reply.statusCode, request.principal?.name));
    });
  }
  return { routes };
}

/** The scope a request to a route needs, or null when it needs none. */
function neededScope(access: RouteAccess, method: string, options: SecurityOptions): Scope | null {
  switch (access) {
    case 'open':
    case 'public':
      return null;
    case 'metrics':
      return options.protectReads || options.protectMetrics ? 'read' : null;
    case 'read':
      // A mutating method on an unknown path (404) still needs a token: what it would do is unknown.
      return options.protectReads ? 'read' : isReadMethod(method) ? null : 'write';
    default:
      return access;
  }
}

function rank(access: RouteAccess): number {
  return { open: 0, public: 0, metrics: 1, read: 1, write: 2, admin: 3 }[access];
}

function refuse(reply: FastifyReply, code: number, error: string, message: string, retryAfterS?: number): FastifyReply {
  reply.header('cache-control', 'no-store');
  if (code === 401) reply.header('www-authenticate', 'Bearer');
  if (retryAfterS !== undefined) reply.header('retry-after', String(retryAfterS));
  return reply.code(code).send({ error, message });
}

const guards = new WeakMap<FastifyInstance, SecurityGuard>();

/** The guard installed on `app` (its route table), if any. */
export function guardOf(app: FastifyInstance): SecurityGuard | undefined {
  return guards.get(app);
}

/** Whether the guard has already authenticated this request (route plugins with their own token check defer to it). */
export function authenticatedBy(request: FastifyRequest): Principal | undefined {
  return request.principal;
}
