/**
 * The metrics report: latency, failure rate and health score per period, per
 * service and per instance, from the store's rollups (minute rollups for
 * minute periods, hour rollups otherwise). Counts, failures, min, max and the
 * mean are exact for any period made of whole buckets; a p95 is exact for a
 * period of one bucket and otherwise the highest bucket p95 (an upper bound
 * of the period's p95: no bucket has more than 5 % of its results above it).
 * System values of `system` checks come from raw results (systemValues).
 */
import type { Rollup, Resolution } from '../../store/types.js';
import { periodsOf } from '../periods.js';
import { narrowsInstances } from '../selection.js';
import { percentile, round, TableBuilder } from '../table.js';
import type { LatencyChart, ReportDocument } from '../types.js';
import { documentFrame, type BuildContext } from './context.js';

const MAX_CHARTS = 12;

const COLUMNS = [
  ['results', 'Results', 'integer'],
  ['failures', 'Failures', 'integer'],
  ['failure_rate_percent', 'Failure rate %', 'percent'],
  ['min_ms', 'Min (ms)', 'number'],
  ['avg_ms', 'Avg (ms)', 'number'],
  ['p95_ms', 'p95 (ms)', 'number'],
  ['max_ms', 'Max (ms)', 'number'],
  ['min_score', 'Min score', 'number'],
  ['avg_score', 'Avg score', 'number'],
] as const;
type Key = (typeof COLUMNS)[number][0];

/** Figures of one period folded from its buckets. */
interface PeriodFigures {
  count: number;
  failures: number;
  min: number;
  sum: number;
  p95: number;
  max: number;
  buckets: number;
  minScore: number | null;
  scoreSum: number;
  scoreWeight: number;
}

export async function buildMetrics(ctx: BuildContext): Promise<ReportDocument> {
  const { source, request, selection } = ctx;
  const { from, to, granularity, timeZone } = request;
  const doc = documentFrame(ctx, 'metrics', 'Latency, failures and scores');
  const resolution: Resolution = granularity === 'minute' ? 'minute' : 'hour';
  doc.notes.push(
    `From ${resolution} rollups. Results, failures (results not HEALTHY), min, mean and max are exact; p95 is exact for a period of one ${resolution} and otherwise the highest ${resolution} p95 in the period, an upper bound of its p95.`,
  );
  doc.notes.push(
    "Scores (0–100): the lowest seen and the mean of the buckets' means weighted by their results. Rollups are made once a bucket is complete (daemon maintenance, every minute): the newest minutes may not be in yet.",
  );
  const periods = periodsOf(from, to, granularity, timeZone);
  // Buckets that began before `from` are left out: a period holds whole buckets of the range.
  const bucketMs = resolution === 'minute' ? 60_000 : 3_600_000;
  const first = Math.ceil(from / bucketMs) * bucketMs;
  if (first !== from) doc.notes.push(`The range starts inside a ${resolution}: figures begin at the first whole ${resolution}.`);

  const fold = (rollups: Rollup[]): Array<[number, PeriodFigures]> => {
    const out: Array<[number, PeriodFigures]> = [];
    let pi = 0;
    let cur: PeriodFigures | null = null;
    for (const r of rollups) {
      while (pi < periods.length && r.bucketStart >= periods[pi]!.end) {
        if (cur) out.push([periods[pi]!.start, cur]);
        cur = null;
        pi++;
      }
      if (pi >= periods.length) break;
      cur ??= { count: 0, failures: 0, min: Infinity, sum: 0, p95: 0, max: -Infinity, buckets: 0, minScore: null, scoreSum: 0, scoreWeight: 0 };
      cur.count += r.count;
      cur.failures += r.failures;
      cur.min = Math.min(cur.min, r.minMs);
      cur.max = Math.max(cur.max, r.maxMs);
      cur.sum += r.avgMs * r.count;
      cur.p95 = Math.max(cur.p95, r.p95Ms);
      cur.buckets++;
      if (r.minScore !== null) cur.minScore = cur.minScore === null ? r.minScore : Math.min(cur.minScore, r.minScore);
      if (r.avgScore !== null) {
        cur.scoreSum += r.avgScore * r.count;
        cur.scoreWeight += r.count;
      }
    }
    if (cur && pi < periods.length) out.push([periods[pi]!.start, cur]);
    return out;
  };
  const cells = (f: PeriodFigures): Record<Key, number | null> => ({
    results: f.count,
    failures: f.failures,
    failure_rate_percent: f.count ? round((f.failures / f.count) * 100, 4) : null,
    min_ms: f.count ? round(f.min) : null,
    avg_ms: f.count ? round(f.sum / f.count) : null,
    p95_ms: f.count ? round(f.p95) : null,
    max_ms: f.count ? round(f.max) : null,
    min_score: f.minScore,
    avg_score: f.scoreWeight ? round(f.scoreSum / f.scoreWeight, 2) : null,
  });

  const total = selection.instances.length + selection.services.length;
  let done = 0;
  const services = new TableBuilder<'period' | 'service' | Key>('services', 'Services per period', `One row per service and ${granularity} with results.`, [
    ['period', 'Period', 'time'],
    ['service', 'Service', 'text'],
    ...COLUMNS,
  ]);
  const narrowed = narrowsInstances(request);
  if (narrowed)
    doc.notes.push('Tags or zones narrow the instances: the service table is left out (service rollups cover every instance); see the instance table.');
  else {
    for (const service of selection.services) {
      const rollups = await source.history.queryRollups({ service, resolution, from: first, to });
      const folded = fold(rollups);
      for (const [period, f] of folded) services.add({ period, service, ...cells(f) });
      if (doc.charts.length < MAX_CHARTS && folded.length > 0) {
        const chart: LatencyChart = { kind: 'latency', id: `latency-${service}`, title: `Latency of ${service}`, subject: service, points: [] };
        for (const [t, f] of folded)
          chart.points.push({ t, p50: null, p95: round(f.p95), p99: null, avg: round(f.sum / f.count), min: round(f.min), max: round(f.max) });
        doc.charts.push(chart);
      }
      ctx.progress({ stage: 'services', done: ++done, total });
    }
    doc.tables.push(services.table);
  }
  const instances = new TableBuilder<'period' | 'service' | 'instance' | Key>(
    'instances',
    'Instances per period',
    `One row per instance and ${granularity} with results.`,
    [['period', 'Period', 'time'], ['service', 'Service', 'text'], ['instance', 'Instance', 'text'], ...COLUMNS],
  );
  for (const inst of selection.instances) {
    const rollups = await source.history.queryRollups({ service: inst.service, instance: inst.instance, resolution, from: first, to });
    for (const [period, f] of fold(rollups)) instances.add({ period, service: inst.service, instance: inst.instance, ...cells(f) });
    ctx.progress({ stage: 'instances', done: ++done, total });
  }
  doc.tables.push(instances.table);
  doc.tables.push(await systemValues(ctx, periods));
  if (selection.checks.some((c) => c.kind === 'system')) {
    doc.notes.push(
      'System values (what system checks measure) come from raw results, kept for the results retention (7 days by default): older periods have none.',
    );
  }
  return doc;
}

/**
 * System values (what `system` checks measure: CPU, memory, load, disk)
 * per check, metric and period: min, mean, p95 and max of the samples. They
 * are kept in raw results only (rollups hold durations), so they cover the
 * time raw results are kept.
 */
async function systemValues(ctx: BuildContext, periods: Array<{ start: number; end: number }>) {
  const { source, request, selection } = ctx;
  const table = new TableBuilder('system', 'System values per period', 'One row per system check, metric and period with samples.', [
    ['period', 'Period', 'time'],
    ['service', 'Service', 'text'],
    ['instance', 'Instance', 'text'],
    ['check', 'Check', 'text'],
    ['metric', 'Metric', 'text'],
    ['samples', 'Samples', 'integer'],
    ['min', 'Min', 'number'],
    ['avg', 'Mean', 'number'],
    ['p95', 'p95', 'number'],
    ['max', 'Max', 'number'],
  ] as const);
  const checks = selection.checks.filter((c) => c.kind === 'system');
  if (checks.length === 0) return table.table;
  // (check index, metric) → samples of the open period; flushed when a sample of a later period arrives.
  let open = new Map<string, number[]>();
  let pi = 0;
  const flush = (): void => {
    for (const [key, values] of [...open].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const slash = key.indexOf('|');
      const c = checks[Number(key.slice(0, slash))]!;
      const sorted = Float64Array.from(values).sort();
      let sum = 0;
      for (const v of sorted) sum += v;
      table.add({
        period: periods[pi]!.start,
        service: c.service,
        instance: c.instance,
        check: c.checkId.slice(c.service.length + c.instance.length + 2),
        metric: key.slice(slash + 1),
        samples: sorted.length,
        min: round(sorted[0]!, 4),
        avg: round(sum / sorted.length, 4),
        p95: round(percentile(sorted, 0.95), 4),
        max: round(sorted[sorted.length - 1]!, 4),
      });
    }
    open = new Map();
  };
  await source.scanMetrics(
    checks.map((c) => c.checkId),
    request.from,
    request.to,
    (i, at, metrics) => {
      while (pi < periods.length - 1 && at >= periods[pi]!.end) {
        flush();
        pi++;
      }
      for (const [name, value] of Object.entries(metrics)) {
        if (typeof value !== 'number' || !Number.isFinite(value)) continue;
        const key = `${String(i).padStart(6, '0')}|${name}`;
        const list = open.get(key);
        if (list) list.push(value);
        else open.set(key, [value]);
      }
    },
  );
  flush();
  return table.table;
}
