import Fastify, { type FastifyInstance } from 'fastify';
import type { Engine } from '../engine.js';

/** What the HTTP server reads from. */
export interface ServerDeps {
  engine: Engine;
  version: string;
  /** False while starting up or shutting down: /readyz answers 503. */
  isReady: () => boolean;
}

/**
 * The daemon's HTTP server. This issue serves the daemon's own probes; the
 * full API arrives with the daemon issue.
 */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true });

  app.get('/livez', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'pass', version: deps.version };
  });

  app.get('/readyz', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    if (!deps.isReady()) return reply.code(503).send({ status: 'fail' });
    return { status: 'pass', checks: deps.engine.size };
  });

  return app;
}

/** Split `host:port` / `[v6]:port` for listen(). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
  if (!m) throw new Error(`listen address "${listen}" is not host:port`);
  return { host: (m[1] ?? m[2])!, port: Number(m[3]) };
}
