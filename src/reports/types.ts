/**
 * The report model: every report type builds one ReportDocument (tables and
 * chart series, plain serialisable data), and every format renders any
 * document. Adding a type is a builder in builders/ and a line in its map;
 * adding a format is a renderer in formats/ and a line in its map.
 *
 * Times are epoch ms; durations ms; percentages 0–100.
 */
import type { HealthStatus } from '../core/status.js';

/** What a report is about. */
export type ReportType = 'summary' | 'detailed' | 'metrics' | 'alerts' | 'trends';
export const REPORT_TYPES = ['summary', 'detailed', 'metrics', 'alerts', 'trends'] as const satisfies readonly ReportType[];

/** How a report is written. */
export type ReportFormat = 'json' | 'html' | 'csv' | 'markdown' | 'xlsx';
export const REPORT_FORMATS = ['json', 'html', 'csv', 'markdown', 'xlsx'] as const satisfies readonly ReportFormat[];

/** Length of the periods a report groups by; `auto` picks one from the range (periods.ts). */
export type Granularity = 'minute' | 'hour' | 'day';
export const GRANULARITIES: readonly Granularity[] = ['minute', 'hour', 'day'];

/**
 * What a column holds, so that each format can type its cells: `time` epoch
 * ms, `duration` ms, `percent` 0–100, `status` a HealthStatus name.
 */
export type ColumnType = 'text' | 'integer' | 'number' | 'percent' | 'duration' | 'time' | 'status';

export interface Column {
  /** Stable machine name (CSV header, JSON key). */
  key: string;
  /** Human title. */
  title: string;
  type: ColumnType;
}

/** One cell: numbers for integer/number/percent/duration/time, strings for text/status, null for "no value". */
export type Cell = string | number | null;

export interface Table {
  /** Stable id (file name inside a CSV zip, sheet name). */
  id: string;
  title: string;
  /** One line saying what a row is. */
  description: string;
  columns: Column[];
  rows: Cell[][];
}

/** A bar per subject: share of the range in each state, percent of the range. */
export interface UptimeBarsChart {
  kind: 'uptime_bars';
  id: string;
  title: string;
  bars: Array<{ label: string; uptimePercent: number | null; healthy: number; degraded: number; unhealthy: number; unknown: number; maintenance: number }>;
}

/** Latency over time: a line per statistic, the band between low and high percentile. */
export interface LatencyChart {
  kind: 'latency';
  id: string;
  title: string;
  /** Series label (a service or an instance). */
  subject: string;
  points: Array<{ t: number; p50: number | null; p95: number | null; p99: number | null; avg: number | null; min: number | null; max: number | null }>;
}

/** Status over time, one row per subject. */
export interface StatusTimelineChart {
  kind: 'status_timeline';
  id: string;
  title: string;
  from: number;
  to: number;
  rows: Array<{ label: string; segments: Array<{ from: number; to: number; status: HealthStatus | 'MAINTENANCE' }> }>;
}

/** A plain value series (trends), with the fitted or forecast band where there is one. */
export interface SeriesChart {
  kind: 'series';
  id: string;
  title: string;
  subject: string;
  unit: string;
  points: Array<{ t: number; value: number }>;
  /** Forecast points after the last value, with their interval. */
  forecast: Array<{ t: number; value: number; lower: number; upper: number }>;
  /** Times of values flagged as anomalies. */
  anomalies: number[];
}

export type Chart = UptimeBarsChart | LatencyChart | StatusTimelineChart | SeriesChart;

/** A finished report. */
export interface ReportDocument {
  /** Version of this shape (docs/report-schema.json). */
  schemaVersion: 1;
  type: ReportType;
  title: string;
  /** When it was built, epoch ms. */
  generatedAt: number;
  /** [from, to), epoch ms, and the IANA time zone times are shown in. */
  range: { from: number; to: number; timeZone: string };
  granularity: Granularity;
  filters: { services: string[]; tags: string[]; zones: string[] };
  /** Rules the figures follow, and what the report could not show (and why). */
  notes: string[];
  tables: Table[];
  charts: Chart[];
}

/** What a user asks for. */
export interface ReportRequest {
  type: ReportType;
  /** [from, to), epoch ms. */
  from: number;
  to: number;
  /** IANA zone for day boundaries and shown times (default UTC). */
  timeZone: string;
  /** Empty: every service. */
  services: readonly string[];
  /** Instances carrying any of these tags (empty: no tag filter). */
  tags: readonly string[];
  /** Instances in any of these zones (empty: no zone filter). */
  zones: readonly string[];
  granularity: Granularity | 'auto';
  /** Availability objective for SLO and error budget, in (0, 1) (default 0.999). */
  sloObjective?: number;
}

/** Progress of a build: `done` of `total` steps of the named stage. */
export type ProgressListener = (p: { stage: string; done: number; total: number }) => void;
