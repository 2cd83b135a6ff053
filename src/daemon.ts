import type { FastifyInstance } from 'fastify';
import { realClock, type Clock } from './core/clock.js';
import type { Logger } from './core/logger.js';
import { realRandom, type Random } from './core/random.js';
import { severity } from './core/status.js';
import { loadConfigFile } from './config/load.js';
import type { Config } from './config/schema.js';
import { Engine } from './engine.js';
import { DnsDiscovery } from './registry/dns-discovery.js';
import { Registry, type ApplyReport, type RegistrationStore } from './registry/registry.js';
import type { HistoryReader } from './server/api.js';
import { buildServer, parseListen } from './server/app.js';
import { TransitionLog } from './server/event-log.js';
import { StatusRollup } from './status/rollup.js';
import { VERSION } from './version.js';

export interface DaemonOptions {
  config: Config;
  logger: Logger;
  /** The config file, for reloads (SIGHUP, POST /api/v1/reload). */
  configPath?: string;
  /** Overrides config.server.listen. */
  listen?: string;
  clock?: Clock;
  random?: Random;
  /** Registrations and history; none keeps everything in memory only. */
  store?: RegistrationStore & Partial<HistoryReader>;
  metrics?: { contentType: string; render(): Promise<string> };
}

/** A running daemon. */
export interface Daemon {
  engine: Engine;
  registry: Registry;
  /** Instance, service and mesh statuses, kept current on transitions. */
  rollup: StatusRollup;
  server: FastifyInstance;
  /** The address actually bound (port 0 resolved). */
  address: { host: string; port: number };
  /** Re-read the config file; on error the running config stays and the error is thrown. */
  reload(): Promise<ApplyReport>;
  /** Readiness off, stop checks (aborting those in flight), close the server. */
  stop(): Promise<void>;
}

/** Start the engine on the config's checks and serve the daemon's endpoints. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { logger } = options;
  let config = options.config;
  const clock = options.clock ?? realClock;
  const engine = new Engine({ clock, random: options.random ?? realRandom, concurrency: config.scheduler.concurrency });
  const registry = new Registry(engine, config, options.store, () => Math.round(clock.now()));
  logTransitions(engine, logger);
  const rollup = new StatusRollup(
    (service) => registry.minHealthy(service),
    (change) => {
      if (change.level === 'instance') {
        registry.bump(); // an instance changing status changes what load balancers get
        return; // the check transition line already says it
      }
      const fields = { level: change.level, id: change.id, from: change.from, to: change.to, cause: change.cause };
      const who = change.level === 'mesh' ? 'mesh' : `service ${change.id}`;
      const message = `${who} ${change.from} → ${change.to} (after ${change.cause})`;
      if (severity(change.to) > severity(change.from) && change.from !== 'UNKNOWN') logger.warn(fields, message);
      else logger.info(fields, message);
    },
  );
  rollup.attach(engine.bus);
  const transitions = new TransitionLog();
  transitions.attach(engine.bus);
  const discovery = new DnsDiscovery(registry, clock, logger);

  async function reload(): Promise<ApplyReport> {
    if (!options.configPath) throw new Error('the daemon was started without a config file');
    const next = await loadConfigFile(options.configPath);
    if (next.server.listen !== config.server.listen) logger.warn('server.listen changed: it takes effect on restart');
    config = next;
    const report = registry.applyConfig(next);
    discovery.apply(next);
    logger.info(report, `config reloaded: ${report.added} checks added, ${report.removed} removed, ${report.changed} changed, ${report.kept} kept`);
    return report;
  }

  let ready = false;
  const history = options.store?.queryResults ? (options.store as HistoryReader) : undefined;
  const server = buildServer({
    engine,
    registry,
    rollup,
    transitions,
    version: VERSION,
    isReady: () => ready,
    history,
    metrics: options.metrics,
    token: config.server.token ?? process.env.HEALTHMESH_API_TOKEN,
    protectReads: config.server.protect_reads,
    reload: options.configPath ? reload : undefined,
  });
  const { host, port } = parseListen(options.listen ?? config.server.listen);
  await server.listen({ host, port });
  const bound = server.server.address();
  const address = typeof bound === 'object' && bound ? { host: bound.address, port: bound.port } : { host, port };

  registry.applyConfig(config);
  const restored = await registry.restore();
  discovery.apply(config);
  ready = true;
  logger.info(
    { listen: `${address.host}:${address.port}`, services: registry.serviceNames().length, checks: engine.size, restored },
    `healthmesh ${VERSION} watching ${engine.size} checks, serving http://${address.host}:${address.port}`,
  );

  return {
    engine,
    registry,
    rollup,
    server,
    address,
    reload,
    async stop() {
      ready = false;
      discovery.stop();
      await engine.stop();
      await server.close();
    },
  };
}

function logTransitions(engine: Engine, logger: Logger): void {
  engine.bus.on('transition', ({ spec, from, to, result }) => {
    const fields = { check: spec.id, service: spec.service, instance: spec.instance, from, to, reason: result.reason };
    const message = `${spec.id} ${from} → ${to}: ${result.output}`;
    if (severity(to) > severity(from) && from !== 'UNKNOWN') logger.warn(fields, message);
    else logger.info(fields, message);
  });
  engine.bus.on('flap', ({ spec, flapping, share }) => {
    logger.warn({ check: spec.id, flapping, share }, `${spec.id} ${flapping ? 'is flapping' : 'stopped flapping'} (${Math.round(share * 100)}% changes)`);
  });
}
