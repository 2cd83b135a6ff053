/**
 * Prometheus metrics of healthmesh on a private prom-client Registry.
 *
 * Two kinds of families:
 * - event counts (runs, failures by reason, run durations) are prom-client
 *   Counter and Histogram children, bound once per service × kind and
 *   updated from the engine's 'result' events (result-counters.ts);
 * - state mirrors (statuses, flapping, scores, system readings, scheduler,
 *   store) hold no state of their own: they are computed on scrape from the
 *   engine, the rollup and the callbacks (on-scrape.ts says why not
 *   `collect()` + `set()`), so they can never drift from what the API reports.
 *
 * prom-client owns the registry, the content type, the process metrics and
 * the text of every family but the computed ones, which write their own
 * (sample-text.ts says why). bench/metrics measures both (README: Metrics).
 */
import { collectDefaultMetrics, register as globalRegistry, Registry } from 'prom-client';
import type { Engine } from '../engine.js';
import type { StatusRollup } from '../status/rollup.js';
import { VERSION } from '../version.js';
import type { PerCheckMode } from '../config/metrics.js';
import { InstanceLabels, type InstanceInfoSource } from './instance-labels.js';
import { DROPPED_DEFAULT_METRICS, FAMILIES } from './names.js';
import { Registrar } from './registrar.js';
import { renderExposition } from './sample-text.js';
import { ResultCounters } from './result-counters.js';
import { registerSchedulerFamilies, registerStoreFamilies, type StoreStatsSource } from './scheduler-families.js';
import { registerStateFamilies } from './state-families.js';
import { registerSystemFamilies } from './system-families.js';

export type { StoreStats, StoreStatsSource } from './scheduler-families.js';
export type { InstanceInfo, InstanceInfoSource } from './instance-labels.js';

/** The part of the Engine the metrics read. */
export type MetricsEngine = Pick<Engine, 'bus' | 'all' | 'schedulerStats'>;

/** The part of the StatusRollup the metrics read; it must follow the same engine's bus. */
export type MetricsRollup = Pick<StatusRollup, 'instance' | 'service' | 'meshStatus' | 'instanceScore' | 'serviceScore'>;

/** Inputs of {@link createMetrics}. */
export interface MetricsOptions {
  /** A private registry to fill; default a new one. prom-client's global registry is refused. */
  registry?: Registry;
  engine: MetricsEngine;
  rollup: MetricsRollup;
  /** The history store's write figures; without it no store families are registered. */
  storeStats?: StoreStatsSource;
  /**
   * Instance metadata keys to add as labels to the per-check and per-instance
   * families (`metrics.labels_from`); fixed for the life of these metrics.
   */
  labelsFrom?: readonly string[];
  /**
   * Which per-check and per-instance series to expose (`metrics.per_check`,
   * config/metrics.ts); default `full`, every series.
   */
  perCheck?: PerCheckMode;
  /** Where labelsFrom values are read, once per instance per scrape (the daemon's instance registry). */
  instanceInfo?: InstanceInfoSource;
  /**
   * Register prom-client's default process metrics under their standard names
   * (default true). Pass false when the registry is merged with another that
   * already has them.
   */
  processMetrics?: boolean;
  /** Told about a family that failed to collect; that family is left empty in the scrape. */
  onError?: (err: unknown, family: string) => void;
}

/** The metrics of one engine, ready to serve at /metrics. */
export interface Metrics {
  readonly registry: Registry;
  /** Content-Type header for the body of render(). */
  readonly contentType: string;
  /** The text exposition of every family in the registry. */
  render(): Promise<string>;
  /**
   * Stop following the engine and unregister every family this instance
   * added, process metrics included. Idempotent. (prom-client offers no way
   * to stop its event-loop and GC observers; they stay, unread.)
   */
  detach(): void;
}

/**
 * Build the metrics of one engine into a private registry and follow the
 * engine's bus ('result' to count, 'check-added' / 'check-removed' to keep the
 * per-check counters). Checks the engine already has are picked up at once.
 *
 * @throws TypeError when given prom-client's global registry, or a labelsFrom
 *   name that is no label name, is reserved or repeats.
 * @throws Error when the registry already holds a family of the same name
 *   (a second createMetrics on it, or its own process metrics: pass processMetrics: false).
 */
export function createMetrics(options: MetricsOptions): Metrics {
  const { engine } = options;
  if (options.registry === globalRegistry) {
    throw new TypeError('createMetrics: pass a private registry (new Registry()), not prom-client’s global one');
  }
  const registry = options.registry ?? new Registry();
  const labels = new InstanceLabels(options.labelsFrom ?? [], options.instanceInfo);
  const r = new Registrar(registry, options.onError ?? (() => {}));

  let counters: ResultCounters;
  try {
    counters = new ResultCounters(r);
    registerStateFamilies(r, engine, options.rollup, labels, options.perCheck ?? 'full');
    registerSystemFamilies(r, engine, labels);
    registerSchedulerFamilies(r, engine);
    if (options.storeStats) registerStoreFamilies(r, options.storeStats);
    const buildInfo = FAMILIES.buildInfo;
    r.gauge(buildInfo, (set) => set({ version: VERSION }, 1));
    if (options.processMetrics ?? true) registerProcessMetrics(registry, r.added);
  } catch (err) {
    r.unregister(); // leave the registry as it was
    throw err;
  }
  for (const view of engine.all()) counters.track(view.spec);
  const offs = [
    engine.bus.on('result', counters.onResult),
    engine.bus.on('check-added', ({ spec }) => counters.track(spec)),
    engine.bus.on('check-removed', ({ spec }) => counters.untrack(spec)),
  ];

  let detached = false;
  return {
    registry,
    get contentType() {
      return registry.contentType;
    },
    render: () => renderExposition(registry),
    detach() {
      if (detached) return;
      detached = true;
      for (const off of offs) off();
      r.unregister();
    },
  };
}

/**
 * prom-client's default process metrics under their standard names, less the
 * `*_total` gauges promtool rejects ({@link DROPPED_DEFAULT_METRICS}). The
 * names that got in are pushed to `added`, even on failure.
 * @throws Error when the registry already has them.
 */
export function registerProcessMetrics(registry: Registry, added: string[] = []): void {
  const before = new Set(registry.getMetricsAsArray().map((m) => m.name));
  try {
    collectDefaultMetrics({ register: registry });
  } catch (err) {
    throw new Error(`createMetrics: the registry already has process metrics; pass processMetrics: false (${(err as Error).message})`);
  } finally {
    for (const m of registry.getMetricsAsArray()) if (!before.has(m.name)) added.push(m.name);
  }
  for (const name of DROPPED_DEFAULT_METRICS) if (!before.has(name)) registry.removeSingleMetric(name);
}
