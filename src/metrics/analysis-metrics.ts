/**
 * Prometheus families of the daemon's analysis, computed on scrape from
 * what the analysis already holds (the SLO statuses of its last minute
 * refresh, the per-minute service trends, the analyzers' newest anomaly
 * scores). Labels: service (from the config) and window (5 constants) or
 * direction (4 constants): bounded by the config, never by the checks.
 */
import type { Registry } from 'prom-client';
import type { TrendAnswer, TrendDirection } from '../analysis/trend.js';
import { ANALYSIS_FAMILIES } from './names.js';
import { Registrar } from './registrar.js';

const DIRECTIONS: readonly TrendDirection[] = ['improving', 'stable', 'degrading', 'volatile'];

/** What the families read. */
export interface AnalysisMetricsSource {
  /** Services with an SLO status: objective share, attainment, budget left, burn rate by window (1h, 5m, …). */
  slos(): Iterable<{ service: string; objective: number; attainment: number | null; budgetRemaining: number; burns: ReadonlyMap<string, number> }>;
  /** Services with their trend now. */
  trends(): Iterable<{ service: string; trend: TrendAnswer }>;
  /** Services with the highest newest anomaly score of their series. */
  anomalyScores(): Iterable<{ service: string; score: number }>;
  /** Series tracked. */
  seriesCount(): number;
}

/** Register the analysis families; returns the function that takes them out. */
export function registerAnalysisMetrics(
  registry: Registry,
  source: AnalysisMetricsSource,
  onError: (err: unknown, family: string) => void = () => {},
): () => void {
  const r = new Registrar(registry, onError);
  const F = ANALYSIS_FAMILIES;
  r.gauge(F.sloObjective, (set) => {
    for (const s of source.slos()) set({ service: s.service }, s.objective);
  });
  r.gauge(F.sloAttainment, (set) => {
    for (const s of source.slos()) if (s.attainment !== null) set({ service: s.service }, s.attainment);
  });
  r.gauge(F.sloBudgetRemaining, (set) => {
    for (const s of source.slos()) set({ service: s.service }, s.budgetRemaining);
  });
  r.gauge(F.sloBurnRate, (set) => {
    for (const s of source.slos()) for (const [window, burn] of s.burns) set({ service: s.service, window }, burn);
  });
  r.gauge(F.trendSlope, (set) => {
    for (const { service, trend } of source.trends()) if (trend.ok) set({ service }, trend.trend.slopePerSecond);
  });
  r.gauge(F.trendConfidence, (set) => {
    for (const { service, trend } of source.trends()) if (trend.ok) set({ service }, trend.trend.confidence);
  });
  r.gauge(F.trendDirection, (set) => {
    for (const { service, trend } of source.trends())
      if (trend.ok) for (const d of DIRECTIONS) set({ service, direction: d }, trend.trend.direction === d ? 1 : 0);
  });
  r.gauge(F.anomalyScore, (set) => {
    for (const { service, score } of source.anomalyScores()) set({ service }, score);
  });
  r.gauge(F.analysisSeries, (set) => set({}, source.seriesCount()));
  return () => r.unregister();
}
