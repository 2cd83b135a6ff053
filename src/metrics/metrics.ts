/**
 * Prometheus metrics of healthmesh on a private prom-client Registry.
 *
 * Two kinds of families:
 * - state mirrors (statuses, flapping, scheduler, store) hold no state of
 *   their own: they are computed on scrape from the engine, the rollup and the
 *   callbacks, so they can never drift from what the API reports;
 * - event counts (runs, failures, durations) are counted from the engine's
 *   'result' events into plain numeric cells per service × kind, resolved once
 *   per check, and published on scrape.
 *
 * Why not prom-client's Counter / Histogram children: their `inc()` and
 * `observe()` rebuild a label hash string, validate the labels and allocate on
 * every call, about 1 µs each, and the result path runs 10 000 times a second.
 * A cell update is a Map lookup and a few additions. Every family is therefore
 * a small collector ({@link ComputedFamily}) that the Registry asks for its
 * samples at scrape time; prom-client still owns the registry, the text
 * format, the content type and the process metrics.
 */
import { collectDefaultMetrics, register as globalRegistry, Registry, type Metric } from 'prom-client';
import type { CheckSpec } from '../core/check.js';
import type { ResultEvent } from '../core/health-events.js';
import type { CheckResult } from '../core/result.js';
import { ALL_STATUSES, type HealthStatus } from '../core/status.js';
import type { Engine } from '../engine.js';
import type { SchedulerStats } from '../scheduler/scheduler.js';
import type { StatusRollup } from '../status/rollup.js';
import { VERSION } from '../version.js';
import {
  CHECK_DURATION_BUCKETS_SECONDS,
  DROPPED_DEFAULT_METRICS,
  FAMILIES,
  MAX_REASONS_PER_GROUP,
  OTHER_REASON,
  SCHEDULER_LAG_QUANTILES,
  type FamilySpec,
} from './names.js';
import { ComputedFamily, NO_LABELS, type Labels, type Sample } from './computed.js';

/**
 * What the history store reports about its writes, read on every scrape.
 * All counts are since the store opened and never decrease (they become
 * Prometheus counters); durations are in milliseconds.
 */
export interface StoreStats {
  /** Duration of the most recent flush, ms; null before the first flush. */
  lastFlushMs: number | null;
  /** Rows written. */
  rows: number;
  /** Rows dropped (queue full, write failed). */
  dropped: number;
  /** Flushes done; with `flushMsTotal` it gives the mean flush time over any window. */
  flushes?: number;
  /** Time spent flushing, summed over all flushes, ms. */
  flushMsTotal?: number;
}

/**
 * Called on every scrape; must be cheap and synchronous (return counters kept
 * in memory, never query the database). Undefined while the store is not open.
 */
export type StoreStatsSource = () => StoreStats | undefined;

/** The part of the Engine the metrics read. */
export type MetricsEngine = Pick<Engine, 'bus' | 'all' | 'schedulerStats'>;

/** The part of the StatusRollup the metrics read; it must follow the same engine's bus. */
export type MetricsRollup = Pick<StatusRollup, 'instance' | 'service' | 'meshStatus'>;

/** Inputs of {@link createMetrics}. */
export interface MetricsOptions {
  /** A private registry to fill; default a new one. prom-client's global registry is refused. */
  registry?: Registry;
  engine: MetricsEngine;
  rollup: MetricsRollup;
  /** The history store's write figures; without it no store families are registered. */
  storeStats?: StoreStatsSource;
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

const STATUS_LABELS: Record<HealthStatus, Labels> = {
  HEALTHY: Object.freeze({ status: 'HEALTHY' }),
  DEGRADED: Object.freeze({ status: 'DEGRADED' }),
  UNHEALTHY: Object.freeze({ status: 'UNHEALTHY' }),
  UNKNOWN: Object.freeze({ status: 'UNKNOWN' }),
};
const BUCKET_BOUNDS_MS = CHECK_DURATION_BUCKETS_SECONDS.map((s) => Math.round(s * 1e6) / 1e3);
const BUCKET_LABELS: Labels[] = [...CHECK_DURATION_BUCKETS_SECONDS.map((le) => ({ le })), { le: '+Inf' }];
const LAG_QUANTILES = Object.entries(SCHEDULER_LAG_QUANTILES).map(([field, quantile]) => ({
  field: field as keyof typeof SCHEDULER_LAG_QUANTILES,
  labels: Object.freeze({ quantile }) as Labels,
}));
/** A reason label value must look like a Reason code; anything else becomes OTHER_REASON. */
const REASON_SHAPE = /^[a-z][a-z0-9_]{0,63}$/;

/** Failures of one reason in one service × kind. */
interface FailureCell {
  readonly labels: Labels;
  count: number;
}

/**
 * Run counts, failures by reason and the duration histogram of one
 * service × kind, shared by all its checks (refs counts them).
 */
class Group {
  refs = 0;
  runs = 0;
  sumMs = 0;
  /** Non-cumulative counts per bucket; the last slot is above the largest bound. */
  readonly buckets = new Float64Array(BUCKET_BOUNDS_MS.length + 1);
  /** Distinct failure cells, in order of first failure: what is exposed. */
  readonly cells: FailureCell[] = [];
  /** Reason → cell lookup; odd reasons map to the shared OTHER_REASON cell. */
  private readonly byReason = new Map<string, FailureCell>();
  private codes = 0;
  private other: FailureCell | null = null;

  constructor(readonly labels: Labels) {}

  record(result: CheckResult): void {
    this.runs++;
    let ms = result.durationMs;
    if (!(ms >= 0)) ms = 0; // NaN or negative would poison _sum forever
    this.sumMs += ms;
    const bounds = BUCKET_BOUNDS_MS;
    let i = 0;
    while (i < bounds.length && ms > bounds[i]!) i++;
    this.buckets[i]!++;
    if (result.status !== 'HEALTHY') (this.byReason.get(result.reason) ?? this.failureCell(result.reason)).count++;
  }

  /** Slow path, once per reason: bound the label values. */
  private failureCell(reason: string): FailureCell {
    let cell: FailureCell;
    if (REASON_SHAPE.test(reason) && reason !== OTHER_REASON && this.codes < MAX_REASONS_PER_GROUP) {
      cell = { labels: Object.freeze({ reason }), count: 0 };
      this.cells.push(cell);
      this.codes++;
    } else {
      if (!this.other) this.cells.push((this.other = { labels: Object.freeze({ reason: OTHER_REASON }), count: 0 }));
      cell = this.other;
    }
    // Remember aliases only while there is room, so a stream of odd reasons cannot grow the map.
    if (this.byReason.size < 2 * MAX_REASONS_PER_GROUP) this.byReason.set(reason, cell);
    return cell;
  }
}

/**
 * Result counters of all checks: the group of each check is resolved when the
 * check is added, so a result costs one Map lookup by spec identity.
 */
class ResultCounters {
  /** service → kind → group. */
  private readonly groups = new Map<string, Map<string, Group>>();
  /** By spec object, not id: a check re-added under the same id before the old one's removal event stays apart. */
  private readonly groupOf = new Map<CheckSpec, Group>();

  readonly onResult = (event: ResultEvent): void => {
    (this.groupOf.get(event.spec) ?? this.track(event.spec)).record(event.result);
  };

  track(spec: CheckSpec): Group {
    const known = this.groupOf.get(spec);
    if (known) return known;
    let byKind = this.groups.get(spec.service);
    if (!byKind) this.groups.set(spec.service, (byKind = new Map()));
    let group = byKind.get(spec.kind);
    if (!group) byKind.set(spec.kind, (group = new Group(Object.freeze({ service: spec.service, kind: spec.kind }))));
    group.refs++;
    this.groupOf.set(spec, group);
    return group;
  }

  /** Forget a check; its group's series go with its last check. */
  untrack(spec: CheckSpec): void {
    const group = this.groupOf.get(spec);
    if (!group) return;
    this.groupOf.delete(spec);
    if (--group.refs > 0) return;
    const byKind = this.groups.get(spec.service);
    byKind?.delete(spec.kind);
    if (byKind?.size === 0) this.groups.delete(spec.service);
  }

  *all(): Generator<Group> {
    for (const byKind of this.groups.values()) yield* byKind.values();
  }
}

/** Per-call memo that lives until the current synchronous run ends (one scrape collects all families in one run). */
function perScrape<T>(read: () => T): () => T {
  let cached: { value: T } | null = null;
  return () => {
    if (cached === null) {
      cached = { value: read() };
      queueMicrotask(() => (cached = null));
    }
    return cached.value;
  };
}

function pushStatus(out: Sample[], current: HealthStatus, shared: Labels | undefined): void {
  for (const status of ALL_STATUSES) {
    out.push({ value: status === current ? 1 : 0, labels: STATUS_LABELS[status], sharedLabels: shared });
  }
}

/** Milliseconds to seconds, the Prometheus unit. */
const seconds = (ms: number): number => ms / 1000;

/**
 * Build the metrics of one engine into a private registry and follow the
 * engine's bus ('result' to count, 'check-added' / 'check-removed' to keep the
 * per-check cells). Checks the engine already has are picked up at once.
 *
 * @throws TypeError when given prom-client's global registry.
 * @throws Error when the registry already holds a family of the same name
 *   (a second createMetrics on it, or its own process metrics: pass processMetrics: false).
 */
export function createMetrics(options: MetricsOptions): Metrics {
  const { engine } = options;
  if (options.registry === globalRegistry) {
    throw new TypeError('createMetrics: pass a private registry (new Registry()), not prom-client’s global one');
  }
  const registry = options.registry ?? new Registry();
  const onError = options.onError ?? (() => {});
  const added: string[] = [];

  const counters = new ResultCounters();
  const unregister = (): void => {
    for (const name of added) registry.removeSingleMetric(name);
  };
  try {
    registerFamilies(registry, options, counters, onError, added);
  } catch (err) {
    unregister(); // leave the registry as it was
    throw err;
  }
  for (const view of engine.all()) counters.track(view.spec);
  const offs = [
    engine.bus.on('result', counters.onResult),
    engine.bus.on('check-added', ({ spec }) => void counters.track(spec)),
    engine.bus.on('check-removed', ({ spec }) => counters.untrack(spec)),
  ];

  let detached = false;
  return {
    registry,
    get contentType() {
      return registry.contentType;
    },
    render: () => registry.metrics(),
    detach() {
      if (detached) return;
      detached = true;
      for (const off of offs) off();
      unregister();
    },
  };
}

/** Register every family into the registry, recording each name in `added` as soon as it is in. */
function registerFamilies(
  registry: Registry,
  options: MetricsOptions,
  counters: ResultCounters,
  onError: (err: unknown, family: string) => void,
  added: string[],
): void {
  const { engine, rollup, storeStats } = options;
  const add = (spec: FamilySpec, sample: (out: Sample[]) => void): void => {
    registry.registerMetric(new ComputedFamily(spec, sample, onError) as unknown as Metric);
    added.push(spec.name);
  };

  // --- per check, from engine.all() -------------------------------------
  const checkLabels = new WeakMap<CheckSpec, Labels>();
  const labelsOf = (spec: CheckSpec): Labels => {
    let labels = checkLabels.get(spec);
    if (!labels) {
      labels = Object.freeze({ service: spec.service, service_instance: spec.instance, check: spec.id, kind: spec.kind });
      checkLabels.set(spec, labels);
    }
    return labels;
  };
  add(FAMILIES.checkStatus, (out) => {
    for (const { spec, state } of engine.all()) pushStatus(out, state.status, labelsOf(spec));
  });
  add(FAMILIES.checkFlapping, (out) => {
    for (const { spec, state } of engine.all()) out.push({ value: state.flapping ? 1 : 0, labels: NO_LABELS, sharedLabels: labelsOf(spec) });
  });

  // --- rollup levels: the set from engine.all(), statuses from the rollup --
  let instanceLabels = new Map<string, Map<string, Labels>>();
  add(FAMILIES.instanceStatus, (out) => {
    const seen = new Map<string, Map<string, Labels>>();
    for (const { spec } of engine.all()) {
      let instances = seen.get(spec.service);
      if (!instances) seen.set(spec.service, (instances = new Map()));
      if (instances.has(spec.instance)) continue;
      const labels = instanceLabels.get(spec.service)?.get(spec.instance) ?? Object.freeze({ service: spec.service, service_instance: spec.instance });
      instances.set(spec.instance, labels);
      pushStatus(out, rollup.instance(spec.service, spec.instance), labels);
    }
    instanceLabels = seen; // drops the label objects of instances gone since the last scrape
  });
  let serviceLabels = new Map<string, Labels>();
  add(FAMILIES.serviceStatus, (out) => {
    const seen = new Map<string, Labels>();
    for (const { spec } of engine.all()) {
      if (seen.has(spec.service)) continue;
      const labels = serviceLabels.get(spec.service) ?? Object.freeze({ service: spec.service });
      seen.set(spec.service, labels);
      pushStatus(out, rollup.service(spec.service), labels);
    }
    serviceLabels = seen;
  });
  add(FAMILIES.meshStatus, (out) => pushStatus(out, rollup.meshStatus(), undefined));

  // --- result counters ----------------------------------------------------
  add(FAMILIES.checkRuns, (out) => {
    for (const g of counters.all()) out.push({ value: g.runs, labels: NO_LABELS, sharedLabels: g.labels });
  });
  add(FAMILIES.checkFailures, (out) => {
    for (const g of counters.all()) {
      for (const cell of g.cells) out.push({ value: cell.count, labels: cell.labels, sharedLabels: g.labels });
    }
  });
  const duration = FAMILIES.checkDuration.name;
  add(FAMILIES.checkDuration, (out) => {
    for (const g of counters.all()) {
      let cumulative = 0;
      for (let i = 0; i < g.buckets.length; i++) {
        cumulative += g.buckets[i]!;
        out.push({ value: cumulative, labels: BUCKET_LABELS[i]!, sharedLabels: g.labels, metricName: `${duration}_bucket` });
      }
      out.push({ value: seconds(g.sumMs), labels: NO_LABELS, sharedLabels: g.labels, metricName: `${duration}_sum` });
      out.push({ value: g.runs, labels: NO_LABELS, sharedLabels: g.labels, metricName: `${duration}_count` });
    }
  });

  // --- scheduler ------------------------------------------------------------
  const stats = perScrape((): SchedulerStats => engine.schedulerStats());
  const single = (spec: FamilySpec, read: () => number): void =>
    add(spec, (out) => void out.push({ value: read(), labels: NO_LABELS }));
  single(FAMILIES.schedulerChecks, () => stats().checks);
  single(FAMILIES.checksInFlight, () => stats().running);
  single(FAMILIES.schedulerWaiting, () => stats().waiting);
  single(FAMILIES.schedulerLingering, () => stats().lingering);
  single(FAMILIES.schedulerRuns, () => stats().runs);
  single(FAMILIES.schedulerTimeouts, () => stats().timeouts);
  const lagName = FAMILIES.schedulerLag.name;
  // Quantiles over the scheduler's sliding window (a start-up burst fades out
  // within a minute); _sum and _count since start, as a summary's must be.
  add(FAMILIES.schedulerLag, (out) => {
    const { lag, recentLag } = stats();
    for (const { field, labels } of LAG_QUANTILES) out.push({ value: seconds(recentLag[field]), labels });
    out.push({ value: seconds(lag.mean * lag.count), labels: NO_LABELS, metricName: `${lagName}_sum` });
    out.push({ value: lag.count, labels: NO_LABELS, metricName: `${lagName}_count` });
  });
  single(FAMILIES.schedulerLagMax, () => seconds(stats().lag.max));

  // --- history store --------------------------------------------------------
  if (storeStats) {
    const store = perScrape((): StoreStats | undefined => {
      try {
        return storeStats();
      } catch (err) {
        onError(err, 'storeStats');
        return undefined;
      }
    });
    const storeFamily = (spec: FamilySpec, collect: (s: StoreStats, out: Sample[]) => void): void =>
      add(spec, (out) => {
        const s = store();
        if (s) collect(s, out);
      });
    storeFamily(FAMILIES.storeLastFlush, (s, out) => {
      if (s.lastFlushMs !== null) out.push({ value: seconds(s.lastFlushMs), labels: NO_LABELS });
    });
    const flushName = FAMILIES.storeFlushDuration.name;
    storeFamily(FAMILIES.storeFlushDuration, (s, out) => {
      if (s.flushes === undefined || s.flushMsTotal === undefined) return;
      out.push({ value: seconds(s.flushMsTotal), labels: NO_LABELS, metricName: `${flushName}_sum` });
      out.push({ value: s.flushes, labels: NO_LABELS, metricName: `${flushName}_count` });
    });
    storeFamily(FAMILIES.storeRows, (s, out) => void out.push({ value: s.rows, labels: NO_LABELS }));
    storeFamily(FAMILIES.storeDropped, (s, out) => void out.push({ value: s.dropped, labels: NO_LABELS }));
  }

  const buildLabels = Object.freeze({ version: VERSION });
  add(FAMILIES.buildInfo, (out) => void out.push({ value: 1, labels: buildLabels }));

  // --- process metrics ------------------------------------------------------
  if (options.processMetrics ?? true) registerProcessMetrics(registry, added);
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
