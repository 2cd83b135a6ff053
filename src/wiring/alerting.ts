/**
 * The alerting module wired into a daemon's core: it opens the alert store
 * of the configured backend, builds the module (src/alerts) and feeds its
 * input port from the core, one subscription each, no call back:
 *
 * | source | AlertInput |
 * |---|---|
 * | bus `result` | `result` (status after the machine, raw result with its metrics) |
 * | bus `transition`, `flap` | `transition`, `flap` |
 * | rollup change, instance and service levels | `status` |
 * | rollup scored result | `sample('score')` of the instance and of its service |
 * | checks added or removed (coalesced), a reload | `topologyChanged` |
 *
 * It also serves the alert routes (a server extension), counts deliveries
 * and firing alerts in /metrics, and tells listeners (the SSE stream) of
 * every timeline entry.
 */
import type { Registry as MetricsRegistry } from 'prom-client';
import { createAlerting, type Alerting } from '../alerts/alerting.js';
import type { AlertTopology, CheckRef } from '../alerts/input.js';
import type { AlertRecord, TimelineEntry } from '../alerts/types.js';
import type { CheckSpec } from '../core/check.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Random } from '../core/random.js';
import type { Config } from '../config/schema.js';
import { registerAlertMetrics } from '../metrics/alert-metrics.js';
import { alertOpenApiPaths, alertOpenApiSchemas } from '../server/alert-openapi.js';
import { alertRoutes } from '../server/alert-routes.js';
import type { ServerExtension } from '../server/extensions.js';
import { openAlertStore } from '../store/alert-backends.js';
import type { Core } from './core.js';

/** An alert timeline entry as the event stream sends it. */
export interface AlertEvent {
  id: string;
  rule: string;
  level: AlertRecord['level'];
  state: AlertRecord['state'];
  labels: AlertRecord['labels'];
  summary: string;
  entry: TimelineEntry;
}

/** Alerting running in a daemon. */
export interface DaemonAlerting {
  readonly alerting: Alerting;
  /** The alert routes and their OpenAPI entries. */
  readonly extension: ServerExtension;
  /** Hear every alert event (fired, notified, suppressed, resolved…); returns the unsubscribe. */
  subscribe(listener: (event: AlertEvent) => void): () => void;
  /** The config was reloaded: the mesh may have changed (rules change on restart). */
  reloaded(next: Config): void;
  /**
   * Resolve alerts whose check, instance or service is gone (call once the
   * core has started and restored its registrations; afterwards removals
   * are swept as they happen). Returns how many.
   */
  sweep(): number;
  stop(): Promise<void>;
}

/** What startDaemonAlerting needs besides the core. */
export interface DaemonAlertingOptions {
  config: Config;
  clock: Clock;
  random: Random;
  logger: Logger;
  metricsRegistry: MetricsRegistry;
  /** The API token (silences need it), and whether reads need it too. */
  token?: string;
  protectReads?: boolean;
}

/** The CheckRef of a spec, as alerts match on it. */
function refOf(spec: CheckSpec): CheckRef {
  return { checkId: spec.id, service: spec.service, instance: spec.instance, check: spec.name, kind: spec.kind };
}

/** Start alerting for a core when the config has an `alerts:` section; null otherwise. */
export async function startDaemonAlerting(core: Core, options: DaemonAlertingOptions): Promise<DaemonAlerting | null> {
  const alertsConfig = options.config.alerts;
  if (!alertsConfig) return null;
  const { clock, logger } = options;
  const { engine, rollup, registry } = core;
  const listeners = new Set<(event: AlertEvent) => void>();
  const topology: AlertTopology = {
    instance(service, id) {
      const record = registry.instance(`${service}/${id}`);
      return record ? { tags: record.tags, ...(record.zone !== undefined ? { zone: record.zone } : {}) } : undefined;
    },
    dependsOn: (service) => core.config.services[service]?.depends_on ?? [],
  };
  const store = openAlertStore(options.config.storage, alertsConfig);
  let metrics: ReturnType<typeof registerAlertMetrics> | undefined;
  const alerting = createAlerting({
    config: alertsConfig,
    clock,
    random: options.random,
    logger,
    store,
    topology,
    onEntry(record, entry) {
      if (listeners.size === 0) return;
      const event: AlertEvent = {
        id: record.id,
        rule: record.rule,
        level: record.level,
        state: record.state,
        labels: record.labels,
        summary: record.summary,
        entry,
      };
      for (const l of listeners) l(event);
    },
    onDelivery: (notifier, outcome) => metrics?.delivery(notifier, outcome),
  });
  metrics = registerAlertMetrics(
    options.metricsRegistry,
    {
      records: () => alerting.engine.records(),
      notifiers: () => Object.keys(alertsConfig.notifiers),
      queued: async () => new Map((await alerting.outbox.stats()).map((s) => [s.notifier, s.queued])),
    },
    (err, family) => logger.warn({ family, err: (err as Error).message }, 'metric family failed to collect'),
  );
  await alerting.start();

  const { input } = alerting;
  let topologyQueued = false;
  const topologyChanged = (): void => {
    if (topologyQueued) return;
    topologyQueued = true;
    queueMicrotask(() => {
      topologyQueued = false;
      input.topologyChanged();
    });
  };
  // Alerts of checks, instances and services that are gone would fire forever: resolve them once the
  // core runs (before, restored alerts of registered instances would look orphaned), then on each removal.
  let sweeping = false;
  const exists = (labels: AlertRecord['labels']): boolean => {
    const service = labels.service;
    if (service === undefined) return true;
    if (labels.check !== undefined) return engine.get(`${service}/${labels.instance}/${labels.check}`) !== undefined;
    if (labels.instance !== undefined) return registry.instanceOf(service, labels.instance) !== undefined;
    return registry.hasService(service) || core.config.services[service] !== undefined;
  };
  const sweep = (): number => {
    sweeping = true;
    const n = alerting.engine.resolveGone(exists, 'its subject is no longer monitored (removed from the config or deregistered)');
    if (n > 0) logger.info({ resolved: n }, 'alerts: resolved the alerts of removed checks, instances or services');
    return n;
  };
  let sweepQueued = false;
  const sweepSoon = (): void => {
    if (!sweeping || sweepQueued) return;
    sweepQueued = true;
    queueMicrotask(() => {
      sweepQueued = false;
      sweep();
    });
  };
  const offs = [
    engine.bus.on('result', ({ spec, result, state }) => input.result({ check: refOf(spec), status: state.status, result })),
    engine.bus.on('transition', ({ spec, from, to, result, at }) =>
      input.transition({ check: refOf(spec), from, to, reason: result.reason, output: result.output, at }),
    ),
    engine.bus.on('flap', ({ spec, flapping, at }) => input.flap({ check: refOf(spec), flapping, at })),
    rollup.onChange((change) => {
      if (change.level === 'mesh') return;
      const slash = change.id.indexOf('/');
      const [service, instance] = change.level === 'instance' ? [change.id.slice(0, slash), change.id.slice(slash + 1)] : [change.id, undefined];
      input.status({
        level: change.level,
        service,
        ...(instance !== undefined ? { instance } : {}),
        from: change.from,
        to: change.to,
        cause: change.cause,
        at: change.at,
      });
    }),
    rollup.onScored(({ event, instanceScore }) => {
      const { service, instance } = event.spec;
      const at = event.result.observedAt;
      input.sample({ series: 'score', subject: { service, instance }, value: instanceScore, at });
      input.sample({ series: 'score', subject: { service }, value: rollup.serviceScore(service), at });
    }),
    engine.bus.on('check-added', topologyChanged),
    engine.bus.on('check-removed', () => {
      topologyChanged();
      sweepSoon();
    }),
  ];

  const extension: ServerExtension = {
    register: (app) =>
      alertRoutes(app, {
        alerts: alerting.api,
        ...(options.token !== undefined ? { token: options.token } : {}),
        ...(options.protectReads !== undefined ? { protectReads: options.protectReads } : {}),
        now: () => clock.now(),
      }),
    openApiPaths: alertOpenApiPaths,
    openApiSchemas: alertOpenApiSchemas,
  };

  return {
    alerting,
    extension,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    sweep,
    reloaded(next) {
      if (JSON.stringify(next.alerts) !== JSON.stringify(alertsConfig)) logger.warn('alerts: changed rules, notifiers and silences take effect on restart');
      topologyChanged();
    },
    async stop() {
      for (const off of offs.splice(0)) off();
      listeners.clear();
      await alerting.stop();
      metrics?.unregister();
      await store.close();
    },
  };
}
