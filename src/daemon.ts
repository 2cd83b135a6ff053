import type { FastifyInstance } from 'fastify';
import { realClock, type Clock } from './core/clock.js';
import type { Logger } from './core/logger.js';
import { realRandom, type Random } from './core/random.js';
import { envValuesOf } from './config/load.js';
import { ConfigThread, loadConfigOffThread } from './config/off-thread.js';
import type { Config } from './config/schema.js';
import { registerBalancerMetrics } from './metrics/balancer-metrics.js';
import { AutoDeregister } from './registry/auto-deregister.js';
import { Admission } from './registry/admission.js';
import { DnsDiscovery } from './registry/dns-discovery.js';
import type { ApplyReport, Registry } from './registry/registry.js';
import type { HistoryReader } from './server/api.js';
import { buildServer, parseListen } from './server/app.js';
import { TransitionLog } from './server/event-log.js';
import { tokenEntries, TokenSet } from './security/tokens.js';
import { configSecrets, instanceSecrets, SecretSet } from './security/secrets.js';
import { isTlsServer, loadListenerTls, reloadListenerTls } from './security/tls.js';
import { createMetrics } from './metrics/metrics.js';
import { openStore } from './store/backends.js';
import { connectHistory } from './store/history-feed.js';
import { registrationStore } from './store/registrations.js';
import type { HistoryStore } from './store/types.js';
import { ResultWriter } from './store/writer.js';
import { VERSION } from './version.js';
import { startDaemonAlerting, type DaemonAlerting } from './wiring/alerting.js';
import { startDaemonAnalysis, type DaemonAnalysis } from './wiring/analysis.js';
import { startDaemonReports } from './wiring/reports.js';
import { createCore } from './wiring/core.js';
import type { Engine } from './engine.js';
import type { BalancerSet } from './balancer/balancer-set.js';
import type { StatusRollup } from './status/rollup.js';
import { descriptorWarning, openFileLimit } from './scheduler/descriptors.js';
import { watchSchedule } from './scheduler/schedule-watch.js';

export interface DaemonOptions {
  config: Config;
  logger: Logger;
  /** The config file, for reloads (SIGHUP, POST /api/v1/reload). */
  configPath?: string;
  /** Overrides config.server.listen. */
  listen?: string;
  clock?: Clock;
  random?: Random;
  /** History and registrations; default: the backend of config.storage. */
  store?: HistoryStore;
  /**
   * Secrets kept out of the API's answers and event streams; the daemon adds
   * the config's and each registration's. Give the set the logger was made
   * with (createLogger's `secrets`) to keep them out of the logs too.
   */
  secrets?: SecretSet;
}

/** How often old results are rolled up and expired rows deleted. */
const MAINTAIN_EVERY_MS = 60_000;
/**
 * From this many checks the config thread is kept warm between reloads.
 * Its start and module loading take about 0.25 s of a reload; kept, it
 * holds about 25 MB (a V8 isolate, js-yaml, zod and the schema), little next
 * to the 0.5–0.7 GB of a 10,000-check daemon.
 */
const WARM_CONFIG_THREAD_CHECKS = 10_000;

/** A running daemon. */
export interface Daemon {
  engine: Engine;
  registry: Registry;
  store: HistoryStore;
  writer: ResultWriter;
  /** Instance, service and mesh statuses, kept current on transitions. */
  rollup: StatusRollup;
  /** Every transition numbered (ids rise across restarts): SSE, the dashboard's stream and the history writer. */
  transitions: TransitionLog;
  /** Alert rules, notifiers and the outbox, when the config has `alerts:`. */
  alerts: DaemonAlerting | null;
  /** Trends, forecasts, anomalies and SLOs of the checks, instances and services. */
  analysis: DaemonAnalysis;
  /** A health-aware balancer per service, fed by the engine (the proxy and the balancer API use them). */
  balancers: BalancerSet;
  /** The Prometheus registry behind /metrics (the proxy adds its families here). */
  metricsRegistry: import('prom-client').Registry;
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
  const clock = options.clock ?? realClock;
  // Read first: a bad pair stops the start before anything is opened. Validity is wall time, whatever clock the checks run on.
  const https = options.config.server.tls ? loadListenerTls(options.config.server.tls, 'server.tls', realClock.now()) : undefined;
  const store = options.store ?? (await openStore(options.config.storage, { logger }));
  const writer = new ResultWriter({
    store,
    clock,
    flushIntervalMs: options.config.storage.flush_interval,
    maxInFlight: 4,
    onError: (err) => logger.error({ err: (err as Error).message }, 'history flush failed; rows kept for the next flush'),
  });
  const core = createCore({ config: options.config, clock, random: options.random ?? realRandom, logger, registrations: registrationStore(store) });
  const { engine, registry, rollup, balancers } = core;
  const transitions = new TransitionLog();
  transitions.attach(engine.bus);
  // Before the first check runs: results and transitions of every level go to the store, numbered.
  const historyFeed = await connectHistory({ rollup, log: transitions, writer, store, clock });
  const autoDeregister = new AutoDeregister(registry, clock, (service) => core.config.services[service]?.deregister_after, logger);
  const offDeregister = rollup.onChange((change) => {
    if (change.level === 'instance') autoDeregister.onInstanceStatus(change.id, change.to);
  });
  const admission = new Admission(options.config.registration, registry);
  const secrets = options.secrets ?? new SecretSet();
  const learnSecrets = (config: Config): void => secrets.addAll([...envValuesOf(config), ...configSecrets(config)]);
  learnSecrets(options.config);
  // A registration's secrets are known from the moment it is in the registry (restored ones included).
  const offSecrets = registry.onChange((service, id) => {
    const rec = id === undefined ? undefined : registry.instanceOf(service, id);
    if (rec) secrets.addAll(instanceSecrets(rec));
  });
  const discovery = new DnsDiscovery(registry, clock, logger, undefined, (address) => admission.addressProblem(address));
  const onMetricError = (err: unknown, family: string) => logger.warn({ family, err: (err as Error).message }, 'metric family failed to collect');
  const metrics = createMetrics({
    engine,
    rollup,
    labelsFrom: options.config.metrics.labels_from,
    perCheck: options.config.metrics.per_check,
    instanceInfo: (service, id) => registry.instance(`${service}/${id}`),
    storeStats: () => {
      const w = writer.stats();
      return {
        lastFlushMs: w.flushes ? w.lastFlushMs : null,
        rows: w.rowsWritten,
        dropped: w.droppedResults,
        flushes: w.flushes,
        flushMsTotal: w.avgFlushMs * w.flushes,
      };
    },
    onError: onMetricError,
  });
  const offBalancerMetrics = registerBalancerMetrics(metrics.registry, balancers, onMetricError, options.config.metrics.per_check);
  const token = options.config.server.token ?? process.env.HEALTHMESH_API_TOKEN;
  const protectReads = options.config.server.protect_reads;
  const alerts = await startDaemonAlerting(core, {
    config: options.config,
    clock,
    random: options.random ?? realRandom,
    logger,
    metricsRegistry: metrics.registry,
    ...(token !== undefined ? { token } : {}),
    protectReads,
  });
  const analysis = startDaemonAnalysis(core, { clock, logger, store, metricsRegistry: metrics.registry, ...(alerts ? { alerts: alerts.alerting.input } : {}) });
  const reports = await startDaemonReports({
    config: options.config,
    store,
    clock,
    logger,
    ...(token !== undefined ? { token } : {}),
    protectReads,
    redact: (text) => secrets.redact(text),
  });
  let maintainTimer = clock.setTimeout(function maintain() {
    store.maintain(Math.round(clock.now())).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'store maintenance failed'));
    maintainTimer = clock.setTimeout(maintain, MAINTAIN_EVERY_MS);
  }, MAINTAIN_EVERY_MS);

  const configThread = new ConfigThread(false);
  /** A big config keeps its parse thread between reloads: its start would be a third of a reload's time. */
  function keepConfigThreadWarm(): void {
    const keep = options.configPath !== undefined && engine.size >= WARM_CONFIG_THREAD_CHECKS;
    configThread.setKeep(keep);
    if (keep) configThread.warm();
  }

  async function reload(): Promise<ApplyReport> {
    if (!options.configPath) throw new Error('the daemon was started without a config file');
    // Parsed on a thread of its own: at 100,000 checks the parse would stop every schedule for half a second.
    const next = await loadConfigOffThread(options.configPath, process.env, core.config, configThread);
    if (next.server.listen !== core.config.server.listen) logger.warn('server.listen changed: it takes effect on restart');
    // A new certificate pair is taken now (a bad one keeps the old); turning TLS on or off needs a restart.
    if (next.server.tls && isTlsServer(server.server)) reloadListenerTls(server.server, next.server.tls, 'server.tls', realClock, logger);
    else if (next.server.tls) logger.warn('server.tls added: it takes effect on restart');
    const report = core.apply(next);
    admission.configure(next.registration);
    learnSecrets(next);
    discovery.apply(next);
    alerts?.reloaded(next);
    analysis.reloaded(next);
    keepConfigThreadWarm();
    logger.info(report, `config reloaded: ${report.added} checks added, ${report.removed} removed, ${report.changed} changed, ${report.kept} kept`);
    return report;
  }

  const tokens = new TokenSet(tokenEntries(options.config.server, process.env.HEALTHMESH_API_TOKEN));
  const listenHost = parseListen(options.listen ?? options.config.server.listen).host;
  if (tokens.size === 0 && !/^(127\.|::1$|localhost$)/.test(listenHost)) {
    logger.warn(
      { listen: listenHost },
      'no API token is set (server.tokens, server.token or HEALTHMESH_API_TOKEN): anyone who reaches the API may register instances, send heartbeats and reload the config',
    );
  }
  let ready = false;
  const history: HistoryReader = { queryResults: (q) => store.queryResults({ ...q, order: 'desc' }) };
  const server = buildServer({
    engine,
    registry,
    rollup,
    transitions,
    version: VERSION,
    isReady: () => ready,
    history,
    metrics,
    balancers,
    token,
    protectReads,
    ...(https ? { https } : {}),
    admission,
    security: { tokens, protectMetrics: options.config.metrics.protect, logger, secrets },
    reload: options.configPath ? reload : undefined,
    historyStore: store,
    clock,
    maintenance: (labels, from, to) => analysis.maintenance().intervals(labels, from, to),
    web: {
      statusPages: () => core.config.status_pages,
      store,
      history: {
        store,
        services: () => Object.keys(core.config.services),
        onError: (err) => logger.warn({ err: (err as Error).message }, 'the sparklines could not read their last hour from the store'),
      },
      clock,
    },
    ...(alerts ? { alertEvents: alerts } : {}),
    extensions: [...(alerts ? [alerts.extension] : []), analysis.extension, reports.extension],
  });
  const { host, port } = parseListen(options.listen ?? options.config.server.listen);
  await server.listen({ host, port });
  const bound = server.server.address();
  const address = typeof bound === 'object' && bound ? { host: bound.address, port: bound.port } : { host, port };

  const { restored } = await core.start();
  alerts?.sweep();
  discovery.apply(core.config);
  const fdWarning = descriptorWarning(specsOf(engine), core.config.scheduler.concurrency, openFileLimit());
  if (fdWarning !== null) logger.warn(fdWarning);
  keepConfigThreadWarm();
  const stopScheduleWatch = watchSchedule({ clock, logger, stats: () => engine.schedulerStats(), concurrency: () => core.config.scheduler.concurrency });
  ready = true;
  logger.info(
    { listen: `${address.host}:${address.port}`, services: registry.serviceNames().length, checks: engine.size, restored },
    `healthmesh ${VERSION} watching ${engine.size} checks, serving ${options.config.server.tls ? 'https' : 'http'}://${address.host}:${address.port}`,
  );

  return {
    engine,
    registry,
    store,
    writer,
    rollup,
    transitions,
    alerts,
    analysis,
    balancers,
    metricsRegistry: metrics.registry,
    server,
    address,
    reload,
    async stop() {
      ready = false;
      offBalancerMetrics();
      offDeregister();
      offSecrets();
      discovery.stop();
      autoDeregister.stop();
      clock.clearTimeout(maintainTimer);
      stopScheduleWatch();
      await configThread.close();
      await core.stop();
      await analysis.stop();
      await alerts?.stop(); // after the checks: the last results are judged, changed alerts saved
      await reports.stop(); // a report being written finishes
      await server.close();
      historyFeed.stop(Math.round(clock.now()));
      await writer.close(); // the last results reach the store
      await store.close();
    },
  };
}

function* specsOf(engine: Engine): Iterable<import('./core/check.js').CheckSpec> {
  for (const view of engine.all()) yield view.spec;
}
