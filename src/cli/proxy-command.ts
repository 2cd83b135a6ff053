/**
 * `healthmesh proxy`: the reverse proxy over the health-aware balancers.
 * Either it runs the whole daemon in process (checks, API, /metrics on
 * server.listen) and routes through the daemon's balancers, or, with
 * `--follow URL`, it runs no checks and follows a running daemon's state
 * through its event stream, serving its own /livez, /readyz, /metrics and
 * balancer state on server.listen.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { BalancerSet, balancerConfigs } from '../balancer/balancer-set.js';
import { FollowFeed } from '../balancer/follow-feed.js';
import { realClock } from '../core/clock.js';
import { HealthmeshError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { realRandom } from '../core/random.js';
import type { Config } from '../config/schema.js';
import { registerBalancerMetrics } from '../metrics/balancer-metrics.js';
import { registerProcessMetrics } from '../metrics/metrics.js';
import { startProxy } from '../proxy/proxy.js';
import type { SecretSet } from '../security/secrets.js';
import { registerBalancerState } from '../server/api.js';
import { parseListen } from '../server/app.js';
import { errorHandler } from '../server/errors.js';

/** Options of the proxy command. */
export interface ProxyCommandOptions {
  config: Config;
  configPath?: string;
  logger: Logger;
  /** Overrides proxy.listen. */
  listen?: string;
  /** Base URL of a daemon to follow instead of running checks here. */
  follow?: string;
  /** Bearer token for the followed daemon (default HEALTHMESH_API_TOKEN). */
  followToken?: string;
  /** Secrets kept out of the daemon's answers (and the logger's lines, when it was made with the same set). */
  secrets?: SecretSet;
}

/** A running proxy with whatever feeds it. */
export interface RunningProxy {
  proxyAddress: { host: string; port: number };
  adminAddress: { host: string; port: number };
  reload?: () => Promise<unknown>;
  stop(): Promise<void>;
}

/** Start the proxy (and the daemon or the follower behind it). */
export async function runProxy(options: ProxyCommandOptions): Promise<RunningProxy> {
  const { config, logger } = options;
  if (!config.proxy) throw new HealthmeshError('config_invalid', 'proxy: missing; add a proxy: section with listen and routes (see README, "Proxy")');
  const proxyConfig = options.listen ? { ...config.proxy, listen: options.listen } : config.proxy;

  if (!options.follow) {
    const { startDaemon } = await import('../daemon.js');
    const daemon = await startDaemon({
      config,
      logger,
      ...(options.configPath ? { configPath: options.configPath } : {}),
      ...(options.secrets ? { secrets: options.secrets } : {}),
    });
    const proxy = await startProxy({ config: proxyConfig, upstreams: daemon.balancers, clock: realClock, logger, registry: daemon.metricsRegistry });
    logger.info(
      { listen: `${proxy.address.host}:${proxy.address.port}` },
      `proxy serving ${proxyConfig.tls ? 'https' : 'http'}://${proxy.address.host}:${proxy.address.port}`,
    );
    return {
      proxyAddress: proxy.address,
      adminAddress: daemon.address,
      // SIGHUP: the daemon's config (and server.tls), then proxy.tls' files.
      reload: async () => {
        const report = await daemon.reload();
        proxy.reloadTls();
        return report;
      },
      async stop() {
        await proxy.close();
        await daemon.stop();
      },
    };
  }

  const set = new BalancerSet({ clock: realClock, random: realRandom });
  set.configure(balancerConfigs(config));
  const token = options.followToken ?? process.env.HEALTHMESH_API_TOKEN;
  const feed = new FollowFeed({ set, url: options.follow, clock: realClock, logger, ...(token ? { token } : {}) });
  await feed.start();
  const registry = new Registry();
  registerProcessMetrics(registry);
  registerBalancerMetrics(registry, set);
  const admin = buildFollowerAdmin(set, feed, registry);
  const { host, port } = parseListen(config.server.listen);
  await admin.listen({ host, port });
  const bound = admin.server.address();
  const adminAddress = typeof bound === 'object' && bound ? { host: bound.address, port: bound.port } : { host, port };
  const proxy = await startProxy({ config: proxyConfig, upstreams: set, clock: realClock, logger, registry });
  logger.info(
    { listen: `${proxy.address.host}:${proxy.address.port}`, follow: options.follow },
    `proxy serving ${proxyConfig.tls ? 'https' : 'http'}://${proxy.address.host}:${proxy.address.port}, following ${options.follow}`,
  );
  return {
    proxyAddress: proxy.address,
    adminAddress,
    reload: async () => proxy.reloadTls(),
    async stop() {
      await proxy.close();
      feed.stop();
      set.close();
      await admin.close();
    },
  };
}

/** /livez, /readyz (ready once the followed daemon's stream is up), /metrics and balancer state. */
function buildFollowerAdmin(set: BalancerSet, feed: FollowFeed, registry: Registry): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  app.setErrorHandler(errorHandler);
  app.get('/livez', async () => ({ status: 'pass' }));
  app.get('/readyz', async (_req, reply) => {
    const s = feed.status();
    if (!s.connected) return reply.code(503).send({ status: 'fail', following: s });
    return { status: 'pass', following: s };
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  registerBalancerState(app, set);
  return app;
}
