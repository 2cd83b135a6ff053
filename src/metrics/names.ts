/**
 * Every Prometheus metric healthmesh exposes: name, type, labels and help
 * text, in one place. Dashboards and alert rules key on these names, so
 * never rename one; add a new family and retire the old one instead.
 *
 * Units follow Prometheus conventions: seconds and plain counts, counters end
 * in `_total`. Status label values are the HealthStatus names (HEALTHY,
 * DEGRADED, UNHEALTHY, UNKNOWN) as the HTTP API prints them.
 *
 * ## Labels and the cardinality bound
 *
 * Label values only ever come from configuration identifiers and code
 * constants: `service` (service name), `service_instance` (instance id or
 * its host:port), `check` (the check id, service/instance/name), `kind`
 * (check kind), `status` (4 values), `reason` (a Reason code, see
 * core/result.ts). Never a URL, an error text or a check's output line.
 *
 * The instance label is `service_instance`, not `instance`: Prometheus sets
 * `instance` (and `job`) on every scraped series to identify the target, and
 * renames a scraped `instance` label to `exported_instance`, so a query for
 * `healthmesh_check_status{instance="a1"}` would silently match nothing.
 *
 * With C checks, I instances, S services, K kinds in use, R reason codes
 * seen per service × kind (R ≤ {@link MAX_REASONS_PER_GROUP} + 1), and Y
 * instances with a system check watching D paths:
 *
 * | family                              | series                        |
 * |-------------------------------------|-------------------------------|
 * | healthmesh_check_status             | C × 4                         |
 * | healthmesh_check_flapping           | C                             |
 * | healthmesh_instance_status          | I × 4                         |
 * | healthmesh_instance_score           | I                             |
 * | healthmesh_service_status           | S × 4                         |
 * | healthmesh_service_score            | S                             |
 * | healthmesh_mesh_status              | 4                             |
 * | healthmesh_check_runs_total         | S × K                         |
 * | healthmesh_check_failures_total     | S × K × R                     |
 * | healthmesh_check_duration_seconds   | S × K × 16 (14 buckets, sum, count) |
 * | healthmesh_system_*                 | Y × (5 + D)                   |
 * | scheduler / store / build info      | 11 / 5 / 1, constant          |
 * | healthmesh_balancer_* per instance  | I × (5 + 3 states + ≤ 4 detectors), + 1 while ejected |
 * | healthmesh_balancer_* per service   | S × 2                         |
 * | healthmesh_proxy_* per instance     | I × (≤ 5 code classes + 1)    |
 * | healthmesh_proxy_* per service      | S × (17 buckets + 2) + 1      |
 *
 * so the engine's families come to about 5·C + 5·I + 5·S + S·K·(17 + R) + 21
 * series, plus the process metrics (~100, constant). 10 000 checks on 2 500
 * instances of 50 services, 3 kinds, 5 reasons each: about 66 000 series.
 * Per-check series are the bulk; counters and histograms are per service ×
 * kind on purpose, so that a thousand instances of one service cost one set
 * of buckets, not a thousand. `metrics.labels_from` adds labels to the
 * per-check and per-instance families, never series.
 *
 * ## Process metrics
 *
 * prom-client's default metrics (CPU, memory, file descriptors, event-loop
 * lag, GC, heap spaces, Node version) are registered under their standard,
 * unprefixed names (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`,
 * …): the community's Node.js dashboards and alerts key on exactly those, and
 * Prometheus' `job` label already tells healthmesh apart from other Node
 * processes. A service that embeds healthmesh and exposes its own default
 * metrics passes `processMetrics: false`. The three gauges in
 * {@link DROPPED_DEFAULT_METRICS} are removed: a gauge named `*_total` fails
 * `promtool check metrics`, and each is the sum of the same gauge without
 * the suffix (by type).
 */

import type { SchedulerStats } from '../scheduler/scheduler.js';

/** The Prometheus metric types healthmesh emits. */
export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'summary';

/** Name, type, label names and help text of one metric family. */
export interface FamilySpec {
  readonly name: string;
  readonly type: FamilyType;
  /** Label names of a sample, without `le` / `quantile` which the type adds. */
  readonly labelNames: readonly string[];
  readonly help: string;
}

const CHECK = ['service', 'service_instance', 'check', 'kind'] as const;

/** The engine's metric families (metrics.ts). Process metrics are prom-client's (see above); balancer and proxy families follow. */
export const FAMILIES = {
  // Per check, computed on scrape from the engine's current state.
  checkStatus: {
    name: 'healthmesh_check_status',
    type: 'gauge',
    labelNames: [...CHECK, 'status'],
    help: 'Thresholded status of each check: 1 for its current status, 0 for the three others.',
  },
  checkFlapping: {
    name: 'healthmesh_check_flapping',
    type: 'gauge',
    labelNames: CHECK,
    help: 'Whether the check is flapping (1) or not (0), by weighted share of status changes.',
  },
  // Above check level, computed on scrape from the status rollup.
  instanceStatus: {
    name: 'healthmesh_instance_status',
    type: 'gauge',
    labelNames: ['service', 'service_instance', 'status'],
    help: 'Status of each instance (worst of its checks): 1 for its current status, 0 for the others.',
  },
  serviceStatus: {
    name: 'healthmesh_service_status',
    type: 'gauge',
    labelNames: ['service', 'status'],
    help: 'Status of each service (from its instances and min_healthy): 1 for its current status, 0 for the others.',
  },
  meshStatus: {
    name: 'healthmesh_mesh_status',
    type: 'gauge',
    labelNames: ['status'],
    help: 'Status of the whole mesh: 1 for its current status, 0 for the others.',
  },
  // Health scores, computed on scrape from the status rollup (README: Health score).
  instanceScore: {
    name: 'healthmesh_instance_score',
    type: 'gauge',
    labelNames: ['service', 'service_instance'],
    help: 'Health score of each instance, 0-100: the score of its worst check (status base × recent success × latency factor).',
  },
  serviceScore: {
    name: 'healthmesh_service_score',
    type: 'gauge',
    labelNames: ['service'],
    help: 'Health score of each service, 0-100: the mean score of its instances.',
  },
  // The system check's last readings, per instance that has one (absent until a run measured them).
  systemCpu: {
    name: 'healthmesh_system_cpu_busy_ratio',
    type: 'gauge',
    labelNames: ['service', 'service_instance'],
    help: 'Busy share of all CPUs between two runs of the system check, 0..1.',
  },
  systemMemory: {
    name: 'healthmesh_system_memory_used_ratio',
    type: 'gauge',
    labelNames: ['service', 'service_instance'],
    help: 'Used share of memory (1 - MemAvailable/MemTotal) at the last run of the system check, 0..1.',
  },
  systemDisk: {
    name: 'healthmesh_system_disk_used_ratio',
    type: 'gauge',
    labelNames: ['service', 'service_instance', 'mount'],
    help: 'Used share of the filesystem holding each configured path (as df computes it) at the last run of the system check, 0..1.',
  },
  systemLoad1: {
    name: 'healthmesh_system_load1',
    type: 'gauge',
    labelNames: ['service', 'service_instance'],
    help: '1-minute load average at the last run of the system check.',
  },
  systemLoad5: {
    name: 'healthmesh_system_load5',
    type: 'gauge',
    labelNames: ['service', 'service_instance'],
    help: '5-minute load average at the last run of the system check.',
  },
  systemLoad15: {
    name: 'healthmesh_system_load15',
    type: 'gauge',
    labelNames: ['service', 'service_instance'],
    help: '15-minute load average at the last run of the system check.',
  },
  // Per service × kind, counted from the engine's result events.
  checkRuns: {
    name: 'healthmesh_check_runs_total',
    type: 'counter',
    labelNames: ['service', 'kind'],
    help: 'Finished check runs (one per result, after retries).',
  },
  checkFailures: {
    name: 'healthmesh_check_failures_total',
    type: 'counter',
    labelNames: ['service', 'kind', 'reason'],
    help: 'Check runs whose result was not HEALTHY (DEGRADED, UNHEALTHY or UNKNOWN), by reason code.',
  },
  checkDuration: {
    name: 'healthmesh_check_duration_seconds',
    type: 'histogram',
    labelNames: ['service', 'kind'],
    help: 'Wall time of finished check runs in seconds, all attempts and retry backoffs included.',
  },
  // The scheduler, computed on scrape from Engine.schedulerStats().
  schedulerChecks: {
    name: 'healthmesh_scheduler_checks',
    type: 'gauge',
    labelNames: [],
    help: 'Checks the scheduler runs.',
  },
  checksInFlight: {
    name: 'healthmesh_checks_in_flight',
    type: 'gauge',
    labelNames: [],
    help: 'Check runs holding a concurrency slot: an attempt in progress or a retry backoff.',
  },
  schedulerWaiting: {
    name: 'healthmesh_scheduler_waiting_checks',
    type: 'gauge',
    labelNames: [],
    help: 'Checks past their due time waiting for a concurrency slot.',
  },
  schedulerLingering: {
    name: 'healthmesh_scheduler_lingering_runners',
    type: 'gauge',
    labelNames: [],
    help: 'Abandoned runs (timed out or removed) whose runner has not returned yet: it ignores its abort signal.',
  },
  schedulerRuns: {
    name: 'healthmesh_scheduler_runs_total',
    type: 'counter',
    labelNames: [],
    help: 'Check runs started by the scheduler.',
  },
  schedulerTimeouts: {
    name: 'healthmesh_scheduler_timeouts_total',
    type: 'counter',
    labelNames: [],
    help: 'Check attempts ended by their timeout.',
  },
  schedulerLag: {
    name: 'healthmesh_scheduler_lag_seconds',
    type: 'summary',
    labelNames: [],
    help: 'Start lag of check runs (actual start minus due time) in seconds; quantiles over the last 50-60 s, _sum and _count since start-up.',
  },
  schedulerLagMax: {
    name: 'healthmesh_scheduler_lag_max_seconds',
    type: 'gauge',
    labelNames: [],
    help: 'Largest start lag of a check run since start-up, in seconds.',
  },
  // The history store, only when a storeStats callback is given.
  storeLastFlush: {
    name: 'healthmesh_store_last_flush_duration_seconds',
    type: 'gauge',
    labelNames: [],
    help: 'Duration of the most recent history-store flush in seconds.',
  },
  storeFlushDuration: {
    name: 'healthmesh_store_flush_duration_seconds',
    type: 'summary',
    labelNames: [],
    help: 'History-store flushes: total time in seconds (_sum) and number of flushes (_count).',
  },
  storeRows: {
    name: 'healthmesh_store_rows_written_total',
    type: 'counter',
    labelNames: [],
    help: 'Rows written to the history store.',
  },
  storeDropped: {
    name: 'healthmesh_store_rows_dropped_total',
    type: 'counter',
    labelNames: [],
    help: 'Rows the history store dropped (queue full or write failed).',
  },
  buildInfo: {
    name: 'healthmesh_build_info',
    type: 'gauge',
    labelNames: ['version'],
    help: 'Always 1; the healthmesh version as a label.',
  },
} as const satisfies Record<string, FamilySpec>;

/** Families of the load balancers (metrics/balancer-metrics.ts), registered where balancers run. */
export const BALANCER_FAMILIES = {
  // Load balancing (balancer/), computed on scrape from each service's balancer snapshot.
  balancerPicks: {
    name: 'healthmesh_balancer_picks_total',
    type: 'counter',
    labelNames: ['service', 'service_instance'],
    help: 'Times the balancer chose the instance for a request attempt.',
  },
  balancerEjected: {
    name: 'healthmesh_balancer_ejected',
    type: 'gauge',
    labelNames: ['service', 'service_instance'],
    help: 'Whether outlier detection has ejected the instance now (1) or not (0).',
  },
  balancerEjectedUntil: {
    name: 'healthmesh_balancer_ejected_until_seconds',
    type: 'gauge',
    labelNames: ['service', 'service_instance'],
    help: 'When the current ejection of the instance ends (Unix time, seconds); only present while ejected.',
  },
  balancerEjections: {
    name: 'healthmesh_balancer_ejections_total',
    type: 'counter',
    labelNames: ['service', 'service_instance', 'detector'],
    help: 'Outlier ejections by detector (consecutive_5xx, consecutive_gateway_failure, success_rate, failure_percentage).',
  },
  balancerBreakerState: {
    name: 'healthmesh_balancer_breaker_state',
    type: 'gauge',
    labelNames: ['service', 'service_instance', 'state'],
    help: 'Circuit breaker state of the instance: 1 for its current state (closed, open, half-open), 0 for the others.',
  },
  balancerBreakerOpens: {
    name: 'healthmesh_balancer_breaker_opens_total',
    type: 'counter',
    labelNames: ['service', 'service_instance'],
    help: 'Times the instance circuit breaker opened.',
  },
  balancerWeight: {
    name: 'healthmesh_balancer_effective_weight',
    type: 'gauge',
    labelNames: ['service', 'service_instance'],
    help: 'Weight the picker uses now: configured weight × health-score factor × slow-start factor; 0 when out of rotation.',
  },
  balancerSlowStart: {
    name: 'healthmesh_balancer_slow_start_factor',
    type: 'gauge',
    labelNames: ['service', 'service_instance'],
    help: 'Slow-start ramp factor of the instance, 0..1 (1 when not ramping).',
  },
  balancerPanic: {
    name: 'healthmesh_balancer_panic',
    type: 'gauge',
    labelNames: ['service'],
    help: 'Whether the service balances over all instances because too few are usable (1) or not (0).',
  },
  balancerHealthyShare: {
    name: 'healthmesh_balancer_healthy_share',
    type: 'gauge',
    labelNames: ['service'],
    help: 'Share of the service instances that may take traffic (active-healthy, not ejected, breaker not open), 0..1.',
  },
} as const satisfies Record<string, FamilySpec>;

/** Families of the reverse proxy (proxy/metrics.ts), registered by `healthmesh proxy`. */
export const PROXY_FAMILIES = {
  // The reverse proxy (proxy/): outcomes and in-flight counts in plain cells published on scrape; attempt durations observed into a Histogram.
  // `code` is the status class (2xx…5xx) or `error` for a transport failure or timeout.
  proxyUpstreamRequests: {
    name: 'healthmesh_proxy_upstream_requests_total',
    type: 'counter',
    labelNames: ['service', 'service_instance', 'code'],
    help: 'Upstream attempts (first tries and retries) by outcome: status class of the response, or error for a transport failure or timeout.',
  },
  proxyAttemptDuration: {
    name: 'healthmesh_proxy_upstream_attempt_duration_seconds',
    type: 'histogram',
    labelNames: ['service'],
    help: 'Time of one upstream attempt until response headers or failure, seconds.',
  },
  proxyRetries: {
    name: 'healthmesh_proxy_retries_total',
    type: 'counter',
    labelNames: ['service'],
    help: 'Retries sent, each to another instance than the attempts before it.',
  },
  proxyBudgetExhausted: {
    name: 'healthmesh_proxy_retry_budget_exhausted_total',
    type: 'counter',
    labelNames: ['service'],
    help: 'Retries that would have been sent but the retry budget refused.',
  },
  proxyInFlight: {
    name: 'healthmesh_proxy_upstream_requests_in_flight',
    type: 'gauge',
    labelNames: ['service', 'service_instance'],
    help: 'Upstream attempts in flight, until response headers or failure (counted as the balancer counts them).',
  },
  proxyTunnelsOpen: {
    name: 'healthmesh_proxy_tunnels_open',
    type: 'gauge',
    labelNames: ['service'],
    help: 'Upgraded connections (WebSocket...) open through the proxy, from the upstream 101 until either side closes.',
  },
  proxyUnrouted: {
    name: 'healthmesh_proxy_unrouted_requests_total',
    type: 'counter',
    labelNames: [],
    help: 'Requests that matched no route (answered 404).',
  },
} as const satisfies Record<string, FamilySpec>;

/**
 * Label names `metrics.labels_from` may not take: those of every family here
 * (an extra label of the same name would clash), `le` and `quantile` (added
 * by the histogram and summary types), and `job` and `instance`, which
 * Prometheus sets on every scraped series itself.
 */
export const RESERVED_LABEL_NAMES: readonly string[] = [
  ...new Set([
    ...[FAMILIES, BALANCER_FAMILIES, PROXY_FAMILIES].flatMap((group) => Object.values(group).flatMap((f): readonly string[] => f.labelNames)),
    'le',
    'quantile',
    'job',
    'instance',
  ]),
];

/** Key of a family in {@link FAMILIES}. */
export type FamilyKey = keyof typeof FAMILIES;

/**
 * Upper bounds (seconds) of the check duration histogram: 1 ms to 10 s in
 * 1-2.5-5 steps. Probes on a LAN answer in 1-10 ms, across regions in
 * 50-250 ms; timeouts are 1-10 s.
 */
export const CHECK_DURATION_BUCKETS_SECONDS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Quantiles exposed for the scheduler's start lag, by the SchedulerStats.recentLag field that holds each. */
export const SCHEDULER_LAG_QUANTILES = { p50: 0.5, p99: 0.99 } as const satisfies Partial<Record<keyof SchedulerStats['recentLag'], number>>;

/** Families of the alerting module (metrics/alert-metrics.ts), registered when `alerts:` is configured. */
export const ALERT_FAMILIES = {
  alertsFiring: {
    name: 'healthmesh_alerts_firing',
    type: 'gauge',
    labelNames: ['level'],
    help: 'Alerts firing now, by level (info, warning, critical).',
  },
  alertsPending: {
    name: 'healthmesh_alerts_pending',
    type: 'gauge',
    labelNames: ['level'],
    help: 'Alerts whose condition holds but whose for: has not passed yet, by level.',
  },
  alertNotifications: {
    name: 'healthmesh_alert_notifications_total',
    type: 'counter',
    labelNames: ['notifier', 'outcome'],
    help: 'Delivery tries of notifications per notifier: delivered, failed (retried later) or dead (given up after max_attempts).',
  },
  alertOutboxQueued: {
    name: 'healthmesh_alert_outbox_queued',
    type: 'gauge',
    labelNames: ['notifier'],
    help: 'Notifications waiting in the outbox for their notifier (queue depth).',
  },
} as const satisfies Record<string, FamilySpec>;

/**
 * Families of the daemon's analysis (metrics/analysis-metrics.ts): per
 * service only (S services; W = 5 burn-rate windows: 1h, 5m, 6h, 30m, 3d),
 * so their size follows the config, never the number of checks:
 * SLO families S' × (3 + W) for the S' services with an `slo:`, trend
 * S × (2 + 4), anomaly S, and one gauge of the series tracked.
 */
export const ANALYSIS_FAMILIES = {
  sloObjective: {
    name: 'healthmesh_slo_objective_ratio',
    type: 'gauge',
    labelNames: ['service'],
    help: 'The SLO objective of the service as a share (99.9 % is 0.999).',
  },
  sloAttainment: {
    name: 'healthmesh_slo_attainment_ratio',
    type: 'gauge',
    labelNames: ['service'],
    help: 'Share of good events over the SLO window (absent with no events yet).',
  },
  sloBudgetRemaining: {
    name: 'healthmesh_slo_error_budget_remaining',
    type: 'gauge',
    labelNames: ['service'],
    help: 'Share of the error budget left over the SLO window: 1 untouched, 0 spent, negative overspent.',
  },
  sloBurnRate: {
    name: 'healthmesh_slo_burn_rate',
    type: 'gauge',
    labelNames: ['service', 'window'],
    help: 'Error rate over the window divided by the error rate the objective allows (1 spends the budget exactly over the SLO window).',
  },
  trendSlope: {
    name: 'healthmesh_trend_slope',
    type: 'gauge',
    labelNames: ['service'],
    help: "Slope of the service score trend (its instances' Theil-Sen slopes, median), score points per second.",
  },
  trendConfidence: {
    name: 'healthmesh_trend_confidence',
    type: 'gauge',
    labelNames: ['service'],
    help: 'Confidence (1 - p, Mann-Kendall over its instances) that the service score moves in the slope direction.',
  },
  trendDirection: {
    name: 'healthmesh_trend_direction',
    type: 'gauge',
    labelNames: ['service', 'direction'],
    help: 'Direction of the service score trend: 1 for the current one of improving, stable, degrading, volatile.',
  },
  anomalyScore: {
    name: 'healthmesh_anomaly_score',
    type: 'gauge',
    labelNames: ['service'],
    help: 'Highest anomaly score (0-1; 0.6 and above is flagged) of the newest minute of any series of the service, its checks and instances.',
  },
  analysisSeries: {
    name: 'healthmesh_analysis_series',
    type: 'gauge',
    labelNames: [],
    help: 'Series the analysis tracks (check latency and failure rate, instance and service score, system readings).',
  },
} as const satisfies Record<string, FamilySpec>;

/**
 * Most distinct reason label values kept per service × kind. Reasons are code
 * constants, so this is never reached in practice; it bounds the series if a
 * runner ever passed through something unexpected.
 */
export const MAX_REASONS_PER_GROUP = 64;

/** Reason label value for a reason that is not a plain code, or past the cap. */
export const OTHER_REASON = 'other';

/**
 * prom-client default metrics that are removed right after registration:
 * gauges with a `_total` suffix, which `promtool check metrics` rejects.
 * Each equals `sum without (type) (<same name without _total>)`.
 */
export const DROPPED_DEFAULT_METRICS: readonly string[] = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * Upper bounds (seconds) of the attempt duration histogram: 0.5 ms to 30 s
 * (the default proxy timeout). Attempts on a LAN take 0.5-5 ms.
 */
export const PROXY_ATTEMPT_BUCKETS_SECONDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
