import type { FastifyInstance } from 'fastify';
import { realClock, type Clock } from './core/clock.js';
import type { Logger } from './core/logger.js';
import { realRandom, type Random } from './core/random.js';
import { severity } from './core/status.js';
import type { Config } from './config/schema.js';
import { Engine } from './engine.js';
import { checksFromConfig } from './registry/from-config.js';
import { buildServer, parseListen } from './server/app.js';
import { StatusRollup } from './status/rollup.js';
import { VERSION } from './version.js';

export interface DaemonOptions {
  config: Config;
  logger: Logger;
  /** Overrides config.server.listen. */
  listen?: string;
  clock?: Clock;
  random?: Random;
}

/** A running daemon. */
export interface Daemon {
  engine: Engine;
  /** Instance, service and mesh statuses, kept current on transitions. */
  rollup: StatusRollup;
  server: FastifyInstance;
  /** The address actually bound (port 0 resolved). */
  address: { host: string; port: number };
  /** Readiness off, stop checks (aborting those in flight), close the server. */
  stop(): Promise<void>;
}

/** Start the engine on the config's checks and serve the daemon's endpoints. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, logger } = options;
  const engine = new Engine({
    clock: options.clock ?? realClock,
    random: options.random ?? realRandom,
    concurrency: config.scheduler.concurrency,
  });
  engine.bus.on('transition', ({ spec, from, to, result }) => {
    const fields = { check: spec.id, service: spec.service, instance: spec.instance, from, to, reason: result.reason };
    const message = `${spec.id} ${from} → ${to}: ${result.output}`;
    if (severity(to) > severity(from) && from !== 'UNKNOWN') logger.warn(fields, message);
    else logger.info(fields, message);
  });
  const rollup = new StatusRollup(
    (service) => config.services[service]?.min_healthy ?? 1,
    (change) => {
      if (change.level === 'instance') return; // the check transition line already says it
      const fields = { level: change.level, id: change.id, from: change.from, to: change.to, cause: change.cause };
      const who = change.level === 'mesh' ? 'mesh' : `service ${change.id}`;
      const message = `${who} ${change.from} → ${change.to} (after ${change.cause})`;
      if (severity(change.to) > severity(change.from) && change.from !== 'UNKNOWN') logger.warn(fields, message);
      else logger.info(fields, message);
    },
  );
  rollup.attach(engine.bus);
  engine.bus.on('flap', ({ spec, flapping, share }) => {
    logger.warn({ check: spec.id, flapping, share }, `${spec.id} ${flapping ? 'is flapping' : 'stopped flapping'} (${Math.round(share * 100)}% changes)`);
  });

  let ready = false;
  const server = buildServer({ engine, version: VERSION, isReady: () => ready });
  const { host, port } = parseListen(options.listen ?? config.server.listen);
  await server.listen({ host, port });
  const bound = server.server.address();
  const address = typeof bound === 'object' && bound ? { host: bound.address, port: bound.port } : { host, port };

  const checks = checksFromConfig(config);
  for (const spec of checks) engine.add(spec);
  ready = true;
  logger.info(
    { listen: `${address.host}:${address.port}`, services: Object.keys(config.services).length, checks: checks.length },
    `healthmesh ${VERSION} watching ${checks.length} checks, serving http://${address.host}:${address.port}`,
  );

  return {
    engine,
    rollup,
    server,
    address,
    async stop() {
      ready = false;
      await engine.stop();
      await server.close();
    },
  };
}
