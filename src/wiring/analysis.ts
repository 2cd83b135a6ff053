/**
 * The analysis (src/analysis) wired into a daemon's core, one subscription
 * each, no call back:
 *
 * | source | what it feeds |
 * |---|---|
 * | bus `result` | the check's `latency_ms` and `failure` series (and a `system` check's readings); live SLO counts |
 * | rollup scored result | the instance's and the service's `score` series |
 * | bus `check-removed` (coalesced) | forgets the check, and the instance or service once gone |
 * | a timer each minute | closes the minute of every series; refreshes the SLOs |
 *
 * Each series gets one point a minute (the minute's mean), the shape of the
 * store's minute rollups, from which a series is warmed when first seen, so
 * a restart does not forget (analysis-tracker.ts). What it finds goes to:
 * the API (a server extension, analysis-routes.ts), /metrics
 * (analysis-metrics.ts) and alert rules, as samples of the series named in
 * alerts/conditions/analysis-samples.ts.
 */
import { globTest } from '../core/glob.js';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { AlertInput, Subject } from '../alerts/input.js';
import { analysisScope, anomalySample, DIRECTION_CODE, forecastSample, trendSample, type ForecastEdge } from '../alerts/conditions/analysis-samples.js';
import { maintenanceCalendar, type MaintenanceCalendar } from '../alerts/maintenance-time.js';
import { ROBUST_FLAG_SCORE } from '../analysis/anomaly/robust.js';
import { forecastOf } from '../analysis/forecast.js';
import { trendOf, type TrendAnswer } from '../analysis/trend.js';
import type { CheckSpec } from '../core/check.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Config } from '../config/schema.js';
import { registerAnalysisMetrics } from '../metrics/analysis-metrics.js';
import { analysisOpenApiPaths, analysisOpenApiSchemas } from '../server/analysis-openapi.js';
import { registerAnalysisRoutes } from '../server/analysis-routes.js';
import type { ServerExtension } from '../server/extensions.js';
import type { HistoryStore } from '../store/types.js';
import { AnalysisTracker, polarityOf, type TrackedSeries, type TrackedSubject, type WarmPoint } from './analysis-tracker.js';
import { burnByWindow, burnSamples, evaluateServiceSlo, LiveSloCounts, type SloSourceDeps, type SloView } from './analysis-slo.js';
import { answerFor, serviceTrend, type AnalysisAnswer } from './analysis-views.js';
import type { Core } from './core.js';

const MINUTE = 60_000;
/** A score under this is what the service and instance forecasts date. */
const SCORE_THRESHOLD = 50;
/** Failure-rate forecasts date the crossing of half the results failing. */
const FAILURE_THRESHOLD = 0.5;

/** Analysis running in a daemon. */
export interface DaemonAnalysis {
  readonly tracker: AnalysisTracker;
  /** The analysis routes and their OpenAPI entries. */
  readonly extension: ServerExtension;
  /** Answers of the routes (also for the library and tests). */
  service(name: string): Promise<AnalysisAnswer | undefined>;
  instance(key: string): Promise<AnalysisAnswer | undefined>;
  check(id: string): Promise<AnalysisAnswer | undefined>;
  /** The SLO statuses of the last refresh, by service. */
  sloStatuses(): ReadonlyMap<string, SloView>;
  /** Close finished minutes and refresh the SLOs now (the minute timer does this; tests call it). */
  tick(): Promise<void>;
  /** The maintenance calendar (alerts.maintenance) in force. */
  maintenance(): MaintenanceCalendar;
  /** The config was reloaded (SLOs and maintenance windows take effect at once). */
  reloaded(next: Config): void;
  stop(): Promise<void>;
}

export interface DaemonAnalysisOptions {
  clock: Clock;
  /** Warm-up and SLO failures are logged here; none: silent. */
  logger?: Logger;
  /** History: the warm-up and the SLOs read it; none: no warm-up, no SLOs. */
  store?: Pick<HistoryStore, 'queryRollups'>;
  metricsRegistry?: MetricsRegistry;
  /** Alert rules' input port, when alerting runs. */
  alerts?: AlertInput;
  /** Most series tracked (default 20,000). */
  maxSeries?: number;
  /** How far back a series is warmed from stored minute rollups (default 3 h). */
  warmupMs?: number;
}

/** What the rules ask of the analysis: which trend and forecast samples to compute (they cost O(minutes²) each). */
interface Demands {
  trend: Array<{ series: string; level: string; services: ((s: string) => boolean) | null }>;
  forecast: Array<{ series: string; level: string; threshold: number; edge: ForecastEdge; services: ((s: string) => boolean) | null }>;
}

function demandsOf(config: Config): Demands {
  const demands: Demands = { trend: [], forecast: [] };
  for (const rule of config.alerts?.rules ?? []) {
    const when = rule.when;
    if (when.kind !== 'trend' && when.kind !== 'forecast') continue;
    const level = analysisScope(when.series, rule.scope);
    const services = rule.match.service ? globTest(rule.match.service) : null;
    if (when.kind === 'trend') demands.trend.push({ series: when.series, level, services });
    else demands.forecast.push({ series: when.series, level, threshold: when.threshold, edge: when.edge, services });
  }
  return demands;
}

/** The alert subject of a tracked subject. */
function subjectOf(s: TrackedSubject, spec: CheckSpec | undefined): Subject {
  if (s.level === 'check') {
    return { checkId: s.key, service: s.service, instance: s.instance ?? '', check: spec?.name ?? s.key.split('/').slice(2).join('/'), kind: spec?.kind ?? '' };
  }
  return s.level === 'instance' ? { service: s.service, instance: s.instance ?? '' } : { service: s.service };
}

/** Stored minutes of a subject, as the tracker warms from them. */
function warmFrom(store: Pick<HistoryStore, 'queryRollups'>) {
  return async (subject: TrackedSubject, from: number, to: number): Promise<WarmPoint[]> => {
    const selector =
      subject.level === 'check'
        ? { checkId: subject.key }
        : subject.level === 'instance'
          ? { service: subject.service, instance: subject.instance ?? '' }
          : { service: subject.service };
    const rollups = await store.queryRollups({ ...selector, resolution: 'minute', from, to });
    return rollups.map((r) => {
      const values: Record<string, number> = {};
      if (subject.level === 'check' && r.count > 0) {
        values.latency_ms = r.avgMs;
        values.failure = r.failures / r.count;
      } else if (subject.level !== 'check' && r.avgScore !== null) values.score = r.avgScore;
      return { start: r.bucketStart, values };
    });
  };
}

/** Start the analysis of a core. */
export function startDaemonAnalysis(core: Core, options: DaemonAnalysisOptions): DaemonAnalysis {
  const { clock, logger, store } = options;
  const { engine, rollup, registry } = core;
  let config = core.config;
  let calendar = maintenanceCalendar(config.alerts?.maintenance ?? []);
  const demands = demandsOf(config);
  const alerts = options.alerts;
  const live = new LiveSloCounts(Math.ceil(clock.now() / MINUTE) * MINUTE);
  const sloDeps = (): SloSourceDeps | undefined =>
    store ? { store, clock, live, maintenance: (labels, from, to) => calendar.intervals(labels, from, to) } : undefined;
  const slos = new Map<string, SloView>();
  const trendCache = new Map<string, { minute: number; answer: TrendAnswer }>();

  const publish = (series: TrackedSeries, t: number, _value: number, warm: boolean): void => {
    if (!alerts || warm) return;
    const s = series.subject;
    const subject = subjectOf(s, s.level === 'check' ? engine.get(s.key)?.spec : undefined);
    const at = clock.now();
    // While an incident lasts the detector scores its later points just under the flag: the alert reads the flag for them.
    const anomaly = series.analyzer.anomaly();
    const value = anomaly.ongoing ? Math.max(anomaly.score, ROBUST_FLAG_SCORE) : anomaly.score;
    alerts.sample({ series: anomalySample(series.name), subject, value, at });
    const wants = (d: { series: string; level: string; services: ((x: string) => boolean) | null }) =>
      d.series === series.name && d.level === s.level && (!d.services || d.services(s.service));
    if (demands.trend.some(wants)) {
      const answer = s.level === 'service' && series.name === 'score' ? serviceTrend(tracker, s.service) : trendOfSeries(series);
      if (answer.ok) alerts.sample({ series: trendSample(series.name), subject, value: DIRECTION_CODE[answer.trend.direction], at });
    }
    const forecasts = demands.forecast.filter(wants);
    if (forecasts.length) {
      const { t: ts, y } = series.analyzer.window();
      for (const f of forecasts) {
        const answer = forecastOf(ts, y, { threshold: f.threshold });
        const crossing = answer.ok ? answer.forecast.crossing : null;
        const when = crossing?.already ? t : crossing ? crossing[f.edge] : null;
        alerts.sample({
          series: forecastSample(series.name, f.threshold, f.edge),
          subject,
          value: when === null ? Number.POSITIVE_INFINITY : Math.max(0, when - t),
          at,
        });
      }
    }
  };

  const tracker = new AnalysisTracker({
    ...(options.maxSeries !== undefined ? { maxSeries: options.maxSeries } : {}),
    ...(options.warmupMs !== undefined ? { warmupMs: options.warmupMs } : {}),
    ...(store ? { warm: warmFrom(store) } : {}),
    onPoint: publish,
    onWarmError: (subject, err) =>
      logger?.warn({ subject: subject.key, err: (err as Error).message }, 'analysis: cannot read stored rollups; the series starts cold'),
  });

  const offs = [
    engine.bus.on('result', ({ spec, result }) => {
      const at = result.observedAt;
      tracker.add('check', spec.id, spec.service, spec.instance, 'latency_ms', at, result.durationMs);
      const passed = result.status === 'HEALTHY' || result.status === 'DEGRADED';
      tracker.add('check', spec.id, spec.service, spec.instance, 'failure', at, result.status === 'HEALTHY' ? 0 : 1);
      if (spec.kind === 'system' && result.metrics)
        for (const name in result.metrics) tracker.add('check', spec.id, spec.service, spec.instance, name, at, result.metrics[name]!);
      const slo = config.services[spec.service]?.slo;
      if (slo) live.add(spec.service, at, passed, result.durationMs, slo.latency_threshold);
    }),
    rollup.onScored(({ event, instanceScore }) => {
      const { service, instance } = event.spec;
      const at = event.result.observedAt;
      tracker.add('instance', `${service}/${instance}`, service, instance, 'score', at, instanceScore);
      tracker.add('service', service, service, undefined, 'score', at, rollup.serviceScore(service));
    }),
    engine.bus.on('check-removed', ({ spec }) => {
      tracker.remove('check', spec.id);
      forgetGoneSoon();
    }),
  ];

  let forgetQueued = false;
  const forgetGoneSoon = (): void => {
    if (forgetQueued) return;
    forgetQueued = true;
    queueMicrotask(() => {
      forgetQueued = false;
      // What still has checks in the engine (the library's own checks have no registry instance).
      const running = new Set<string>();
      const services = new Set<string>();
      for (const { spec } of engine.all()) {
        running.add(`${spec.service}/${spec.instance}`);
        services.add(spec.service);
      }
      for (const s of tracker.subjectsOf('instance'))
        if (!running.has(s.key) && !registry.instanceOf(s.service, s.instance ?? '')) tracker.remove('instance', s.key);
      for (const s of tracker.subjectsOf('service')) {
        if (!services.has(s.service) && !registry.hasService(s.service) && !config.services[s.service]) {
          tracker.remove('service', s.key);
          live.drop(s.service);
        }
      }
    });
  };

  function trendOfSeries(series: TrackedSeries): TrendAnswer {
    const { t, y } = series.analyzer.window();
    return trendOf(t, y, { polarity: polarityOf(series.name) });
  }

  /** A service's trend, computed at most once a minute (metrics scrapes ask often). */
  function cachedServiceTrend(service: string): TrendAnswer {
    const minute = Math.floor(clock.now() / MINUTE);
    const hit = trendCache.get(service);
    if (hit && hit.minute === minute) return hit.answer;
    const answer = serviceTrend(tracker, service);
    trendCache.set(service, { minute, answer });
    return answer;
  }

  let refreshing: Promise<void> | null = null;
  async function refreshSlos(): Promise<void> {
    const deps = sloDeps();
    if (!deps) return;
    for (const [service, sc] of Object.entries(config.services)) {
      if (!sc.slo) {
        slos.delete(service);
        continue;
      }
      try {
        const view = await evaluateServiceSlo(service, sc.slo, deps);
        slos.set(service, view);
        if (alerts) for (const s of burnSamples(view)) alerts.sample({ series: s.series, subject: { service }, value: s.value, at: clock.now() });
      } catch (err) {
        logger?.warn({ service, err: (err as Error).message }, 'analysis: cannot evaluate the SLO');
      }
    }
    for (const service of slos.keys()) if (!config.services[service]?.slo) slos.delete(service);
  }

  async function tick(): Promise<void> {
    await tracker.tick(clock.now());
    for (const service of trendCache.keys()) if (!registry.hasService(service) && !config.services[service]) trendCache.delete(service);
    refreshing ??= refreshSlos().finally(() => (refreshing = null));
    await refreshing;
  }

  let timer: TimerHandle | undefined;
  const arm = (): void => {
    // Just after each minute ends, so that minute closes with every result in it.
    timer = clock.setTimeout(
      () => {
        void tick();
        arm();
      },
      MINUTE - (clock.now() % MINUTE) + 1_000,
    );
  };
  arm();

  const offMetrics = options.metricsRegistry
    ? registerAnalysisMetrics(
        options.metricsRegistry,
        {
          *slos() {
            for (const [service, v] of slos)
              yield { service, objective: v.objective, attainment: v.attainment, budgetRemaining: v.budgetRemaining, burns: burnByWindow(v) };
          },
          *trends() {
            for (const service of tracker.services()) yield { service, trend: cachedServiceTrend(service) };
          },
          *anomalyScores() {
            for (const service of tracker.services()) {
              let score = 0;
              for (const subject of tracker.ofService(service))
                for (const s of subject.series.values()) if (s.analyzer.count > 0) score = Math.max(score, s.analyzer.anomaly().score);
              yield { service, score };
            }
          },
          seriesCount: () => tracker.size,
        },
        (err, family) => logger?.warn({ family, err: (err as Error).message }, 'metric family failed to collect'),
      )
    : () => {};

  /** The SLO of a service, evaluated now, or the reason there is none. */
  async function sloOf(service: string): Promise<{ slo: SloView | null; reason: string | null }> {
    const sc = config.services[service]?.slo;
    if (!sc) return { slo: null, reason: `no slo: in services.${service} of the config` };
    const deps = sloDeps();
    if (!deps) return { slo: null, reason: 'this daemon keeps no history to count the SLO from' };
    return { slo: await evaluateServiceSlo(service, sc, deps), reason: null };
  }

  const checkThreshold =
    (id: string) =>
    (series: string): number | undefined => {
      if (series === 'score') return SCORE_THRESHOLD;
      if (series === 'failure') return FAILURE_THRESHOLD;
      if (series !== 'latency_ms') return undefined;
      const spec = engine.get(id)?.spec;
      if (!spec) return undefined;
      const degraded = (spec.config as { degraded_after?: number }).degraded_after;
      return degraded ?? spec.timeoutMs;
    };
  const scoreThreshold = (series: string): number | undefined => (series === 'score' ? SCORE_THRESHOLD : undefined);

  const api = {
    async service(name: string): Promise<AnalysisAnswer | undefined> {
      // A service of the config or the registry, or one only the engine runs checks of (the library's own).
      if (!registry.hasService(name) && !config.services[name] && tracker.get('service', name) === undefined) return undefined;
      const { slo, reason } = await sloOf(name);
      return answerFor(tracker, 'service', name, 'score', {
        now: clock.now(),
        thresholdOf: scoreThreshold,
        slo,
        sloReason: reason,
        maintenance: calendar.activeAt({ service: name }, clock.now()),
      });
    },
    async instance(key: string): Promise<AnalysisAnswer | undefined> {
      const rec = registry.instance(key);
      if (!rec) return undefined;
      const id = `${rec.service}/${rec.id}`;
      const ctx = {
        now: clock.now(),
        thresholdOf: scoreThreshold,
        slo: null,
        sloReason: 'SLOs are kept per service',
        maintenance: calendar.activeAt({ service: rec.service, instance: rec.id }, clock.now()),
      };
      return answerFor(tracker, 'instance', id, 'score', ctx) ?? emptyAnswer('instance', id, 'score', ctx);
    },
    async check(id: string): Promise<AnalysisAnswer | undefined> {
      const spec = engine.get(id)?.spec;
      if (!spec) return undefined;
      const labels = { service: spec.service, instance: spec.instance, check: spec.name };
      const ctx = {
        now: clock.now(),
        thresholdOf: checkThreshold(id),
        slo: null,
        sloReason: 'SLOs are kept per service',
        maintenance: calendar.activeAt(labels, clock.now()),
      };
      return answerFor(tracker, 'check', id, 'latency_ms', ctx) ?? emptyAnswer('check', id, 'latency_ms', ctx);
    },
  };

  const extension: ServerExtension = {
    register: (app) => registerAnalysisRoutes(app, api),
    openApiPaths: analysisOpenApiPaths,
    openApiSchemas: analysisOpenApiSchemas,
  };

  return {
    tracker,
    extension,
    ...api,
    sloStatuses: () => slos,
    tick,
    maintenance: () => calendar,
    reloaded(next) {
      config = next;
      calendar = maintenanceCalendar(next.alerts?.maintenance ?? []);
      forgetGoneSoon();
    },
    async stop() {
      if (timer !== undefined) clock.clearTimeout(timer);
      for (const off of offs.splice(0)) off();
      offMetrics();
      tracker.stop();
      await tracker.idle();
      await refreshing;
    },
  };
}

/** The answer for a subject that exists but has no data yet. */
function emptyAnswer(
  level: 'instance' | 'check',
  id: string,
  series: string,
  ctx: { now: number; slo: SloView | null; sloReason: string | null; maintenance: AnalysisAnswer['maintenance'] },
): AnalysisAnswer {
  const none = `no ${series} data yet`;
  return {
    level,
    id,
    at: ctx.now,
    series,
    trend: null,
    forecast: null,
    anomalies: null,
    slo: ctx.slo,
    maintenance: ctx.maintenance,
    reasons: { trend: none, forecast: none, anomalies: none, slo: ctx.sloReason },
    details: [],
  };
}
