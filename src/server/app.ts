import Fastify, { type FastifyInstance } from 'fastify';
import { installSecurity } from '../security/guard.js';
import { httpsServerFactory } from '../security/tls.js';
import { tokenEntries, TokenSet } from '../security/tokens.js';
import { registerApi } from './api.js';
import { errorHandler } from './errors.js';
import { registerWeb, type ServerDeps } from './web.js';

/**
 * The daemon's HTTP server: its own probes (/livez, /readyz), the mesh's
 * /health, /metrics and the API. Errors are mapped in one handler.
 */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    bodyLimit: 1024 * 1024,
    ...(deps.https ? { serverFactory: httpsServerFactory(deps.https) } : {}),
  });
  app.setErrorHandler(errorHandler);
  // Before any route: the guard's onRoute hook gives every route (extensions' too) its access.
  installSecurity(app, {
    tokens: new TokenSet(tokenEntries({ token: deps.token })),
    protectReads: deps.protectReads ?? false,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...deps.security,
  });

  app.get('/livez', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'pass', version: deps.version };
  });

  app.get('/readyz', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    if (!deps.isReady()) return reply.code(503).send({ status: 'fail' });
    return { status: 'pass', checks: deps.engine.size };
  });

  registerWeb(app, deps); // before registerApi: its public routes answer ahead of the API's read guard
  registerApi(app, deps);
  for (const extension of deps.extensions ?? []) void app.register(async (scope) => extension.register(scope));
  return app;
}

/** Split `host:port` / `[v6]:port` for listen(). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
  if (!m) throw new Error(`listen address "${listen}" is not host:port`);
  return { host: (m[1] ?? m[2])!, port: Number(m[3]) };
}
