/**
 * The detailed report: per instance and check, every transition with its
 * reason and output, failure reasons ranked, and latency p50/p95/p99 per
 * period. Percentiles are exact (nearest rank) from the raw results,
 * streamed one minute at a time; a period's values are dropped once the
 * period is closed, so memory holds one period's durations at most.
 */
import { periodsOf } from '../periods.js';
import { compactSegments, statusWalk } from '../subject-history.js';
import { percentile, round, TableBuilder } from '../table.js';
import type { LatencyChart, ReportDocument, StatusTimelineChart } from '../types.js';
import { documentFrame, type BuildContext } from './context.js';

/** Most latency charts (services) and timeline rows (instances) drawn; the tables hold everything. */
const MAX_CHARTS = 12;
const MAX_TIMELINE_ROWS = 60;
const PAGE = 10_000;

export async function buildDetailed(ctx: BuildContext): Promise<ReportDocument> {
  const { source, request, selection } = ctx;
  const { from, to, granularity, timeZone } = request;
  const doc = documentFrame(ctx, 'detailed', 'Detailed check history');
  doc.notes.push(
    'Latency percentiles are nearest-rank (the value at rank ⌈q·n⌉) over the raw results of each period; failures are results that were not HEALTHY.',
  );

  // Transitions of checks and instances, per service (one paged query each).
  const transitions = new TableBuilder('transitions', 'Transitions', 'Every status change of a selected instance or check, oldest first.', [
    ['at', 'At', 'time'],
    ['service', 'Service', 'text'],
    ['instance', 'Instance', 'text'],
    ['check', 'Check', 'text'],
    ['level', 'Level', 'text'],
    ['from', 'From', 'status'],
    ['to', 'To', 'status'],
    ['reason', 'Reason', 'text'],
    ['output', 'Output', 'text'],
  ] as const);
  const selectedInstances = new Set(selection.instances.map((i) => `${i.service}/${i.instance}`));
  let step = 0;
  const totalSteps = selection.services.length + 1;
  for (const service of selection.services) {
    let cursor: string | null = null;
    do {
      const page = await source.history.queryTransitions({ service, levels: ['check', 'instance'], from, to, limit: PAGE, cursor });
      for (const t of page.items) {
        if (!selectedInstances.has(`${t.service}/${t.instance}`)) continue;
        const check = t.checkId ? t.checkId.slice(t.service.length + t.instance.length + 2) : null;
        transitions.add({
          at: t.at,
          service: t.service,
          instance: t.instance,
          check,
          level: t.level ?? 'check',
          from: t.from,
          to: t.to,
          reason: t.reason,
          output: t.output,
        });
      }
      cursor = page.nextCursor;
    } while (cursor);
    ctx.progress({ stage: 'transitions', done: ++step, total: totalSteps });
  }

  // One pass over the raw results: reasons of failures, durations of the open period.
  const checks = selection.checks;
  const reasonCounts = checks.map(() => new Map<string, number>());
  const failures = new Float64Array(checks.length);
  const periods = periodsOf(from, to, granularity, timeZone);
  const latency = new TableBuilder('latency', 'Latency per period', `One row per check and ${granularity} with results.`, [
    ['period', 'Period', 'time'],
    ['service', 'Service', 'text'],
    ['instance', 'Instance', 'text'],
    ['check', 'Check', 'text'],
    ['results', 'Results', 'integer'],
    ['failures', 'Failures', 'integer'],
    ['p50_ms', 'p50 (ms)', 'number'],
    ['p95_ms', 'p95 (ms)', 'number'],
    ['p99_ms', 'p99 (ms)', 'number'],
    ['min_ms', 'Min (ms)', 'number'],
    ['avg_ms', 'Avg (ms)', 'number'],
    ['max_ms', 'Max (ms)', 'number'],
  ] as const);
  const chartServices = selection.services.slice(0, MAX_CHARTS);
  const charts = new Map<string, LatencyChart>(
    chartServices.map((s) => [s, { kind: 'latency', id: `latency-${s}`, title: `Latency of ${s}`, subject: s, points: [] }]),
  );
  // Durations of the open period per check, in growable typed buffers reused from period to period (no garbage per row).
  const buffers = checks.map(() => new Float64Array(64));
  const counts = new Uint32Array(checks.length);
  let periodFailures = new Uint32Array(checks.length);
  let periodIndex = 0;
  const closePeriod = (): void => {
    const p = periods[periodIndex]!;
    const byService = new Map<string, Float64Array[]>();
    for (let i = 0; i < checks.length; i++) {
      if (counts[i] === 0) continue;
      const sorted = buffers[i]!.subarray(0, counts[i]!).sort();
      const c = checks[i]!;
      let sum = 0;
      for (const x of sorted) sum += x;
      latency.add({
        period: p.start,
        service: c.service,
        instance: c.instance,
        check: c.checkId.slice(c.service.length + c.instance.length + 2),
        results: sorted.length,
        failures: periodFailures[i]!,
        p50_ms: round(percentile(sorted, 0.5)),
        p95_ms: round(percentile(sorted, 0.95)),
        p99_ms: round(percentile(sorted, 0.99)),
        min_ms: round(sorted[0]!),
        avg_ms: round(sum / sorted.length),
        max_ms: round(sorted[sorted.length - 1]!),
      });
      if (charts.has(c.service)) {
        const list = byService.get(c.service) ?? [];
        list.push(sorted);
        byService.set(c.service, list);
      }
    }
    for (const [service, chart] of charts) {
      const parts = byService.get(service);
      if (!parts) continue;
      const all = new Float64Array(parts.reduce((n, a) => n + a.length, 0));
      let o = 0;
      for (const a of parts) {
        all.set(a, o);
        o += a.length;
      }
      all.sort();
      let sum = 0;
      for (const x of all) sum += x;
      chart.points.push({
        t: p.start,
        p50: round(percentile(all, 0.5)),
        p95: round(percentile(all, 0.95)),
        p99: round(percentile(all, 0.99)),
        avg: round(sum / all.length),
        min: round(all[0]!),
        max: round(all[all.length - 1]!),
      });
    }
    counts.fill(0);
    periodFailures = new Uint32Array(checks.length);
    periodIndex++;
    ctx.progress({ stage: 'results', done: periodIndex, total: periods.length });
  };
  const periodOf = (t: number): number => {
    // Periods are contiguous and visited in order: step forward until t fits.
    while (periodIndex < periods.length - 1 && t >= periods[periodIndex]!.end) closePeriod();
    return periodIndex;
  };
  await source.scanResults(
    checks.map((c) => c.checkId),
    from,
    to,
    (i, at, status, reason, durationMs) => {
      periodOf(at);
      const n = counts[i]!;
      let buf = buffers[i]!;
      if (n === buf.length) {
        const grown = new Float64Array(n * 2);
        grown.set(buf);
        buffers[i] = buf = grown;
      }
      buf[n] = durationMs;
      counts[i] = n + 1;
      if (status !== 0) {
        failures[i]!++;
        periodFailures[i]!++;
        const m = reasonCounts[i]!;
        m.set(reason, (m.get(reason) ?? 0) + 1);
      }
    },
    (minuteStart) => periodOf(minuteStart),
  );
  while (periodIndex < periods.length) closePeriod();

  const reasons = new TableBuilder('failure_reasons', 'Failure reasons', 'Reasons of failed results per check, most frequent first.', [
    ['service', 'Service', 'text'],
    ['instance', 'Instance', 'text'],
    ['check', 'Check', 'text'],
    ['rank', 'Rank', 'integer'],
    ['reason', 'Reason', 'text'],
    ['count', 'Count', 'integer'],
    ['share_percent', 'Share of failures %', 'percent'],
  ] as const);
  checks.forEach((c, i) => {
    const ranked = [...reasonCounts[i]!.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    ranked.forEach(([reason, count], r) => {
      reasons.add({
        service: c.service,
        instance: c.instance,
        check: c.checkId.slice(c.service.length + c.instance.length + 2),
        rank: r + 1,
        reason,
        count,
        share_percent: round((count / failures[i]!) * 100, 2),
      });
    });
  });

  const timeline: StatusTimelineChart = { kind: 'status_timeline', id: 'instance-status', title: 'Instance status over the range', from, to, rows: [] };
  for (const inst of selection.instances.slice(0, MAX_TIMELINE_ROWS)) {
    const walk = await statusWalk(source.history, { service: inst.service, instance: inst.instance }, from, to);
    timeline.rows.push({ label: `${inst.service}/${inst.instance}`, segments: compactSegments(walk.segments, from, to) });
  }
  ctx.progress({ stage: 'transitions', done: totalSteps, total: totalSteps });

  const rawFrom = await source.rawFrom();
  if (rawFrom === null || rawFrom > from) {
    doc.notes.push(
      rawFrom === null
        ? 'No raw results are kept in this store: latency percentiles and failure reasons are empty.'
        : `Raw results are kept from ${new Date(rawFrom).toISOString()} (results retention): latency and failure reasons cover the range from there.`,
    );
  }
  if (selection.services.length > MAX_CHARTS) doc.notes.push(`Latency charts are drawn for the first ${MAX_CHARTS} services; the tables hold every check.`);
  if (selection.instances.length > MAX_TIMELINE_ROWS)
    doc.notes.push(`The status timeline shows the first ${MAX_TIMELINE_ROWS} instances; the transitions table holds them all.`);
  doc.tables.push(transitions.table, reasons.table, latency.table);
  doc.charts.push(...[...charts.values()].filter((c) => c.points.length > 0), timeline);
  return doc;
}
