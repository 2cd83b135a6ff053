/**
 * The summary report: per service and per instance, uptime (maintenance and
 * UNKNOWN time apart), a time-based SLO with its error budget, incidents
 * (count, longest, MTTR), the status at the end of the range and the latest
 * health score. Reads only uptime (day rows plus two partial days of
 * transitions), each subject's transitions in the range and one latest-result
 * query: its cost does not grow with the number of results.
 */
import type { HealthStatus } from '../../core/status.js';
import { maintenanceIntervals } from '../maintenance.js';
import { narrowsInstances, type SelectedInstance } from '../selection.js';
import {
  compactSegments,
  figuresOf,
  instanceWalks,
  MAX_SEGMENTS,
  statusWalk,
  UPTIME_RULE,
  uptimeFigures,
  type StatusWalk,
  type UptimeFigures,
} from '../subject-history.js';
import { round, TableBuilder } from '../table.js';
import type { ReportDocument, StatusTimelineChart, UptimeBarsChart } from '../types.js';
import { documentFrame, type BuildContext } from './context.js';

/** Default availability objective. */
export const DEFAULT_SLO = 0.999;
/** Most rows drawn in a status-timeline chart (the tables hold them all). */
const MAX_TIMELINE_ROWS = 60;

const COLUMNS = [
  ['uptime_percent', 'Uptime %', 'percent'],
  ['healthy_ms', 'Healthy', 'duration'],
  ['degraded_ms', 'Degraded', 'duration'],
  ['unhealthy_ms', 'Unhealthy', 'duration'],
  ['unknown_ms', 'Unknown', 'duration'],
  ['maintenance_ms', 'Maintenance', 'duration'],
  ['slo_percent', 'SLO %', 'percent'],
  ['budget_ms', 'Error budget', 'duration'],
  ['budget_remaining_percent', 'Budget left %', 'percent'],
  ['incidents', 'Incidents', 'integer'],
  ['longest_incident_ms', 'Longest incident', 'duration'],
  ['mttr_ms', 'MTTR', 'duration'],
  ['status', 'Status at end', 'status'],
  ['score', 'Score', 'number'],
] as const;
type Key = (typeof COLUMNS)[number][0];

interface Row {
  label: string;
  figures: UptimeFigures;
  longestMs: number;
  status: HealthStatus;
  score: number | null;
}

export async function buildSummary(ctx: BuildContext): Promise<ReportDocument> {
  const { source, request, selection } = ctx;
  const { from, to } = request;
  const objective = request.sloObjective ?? DEFAULT_SLO;
  const doc = documentFrame(ctx, 'summary', 'Service health summary');
  doc.notes.push(UPTIME_RULE);
  doc.notes.push(
    `SLO: availability objective ${round(objective * 100, 4)} % of known time outside maintenance; error budget = (1 − objective) × that time; budget left = 1 − UNHEALTHY time / budget (negative once overspent).`,
  );
  doc.notes.push("Score: the health score (0–100) of the newest result before the end of the range; a service's is the mean of its instances'.");
  if (source.maintenance.length === 0) doc.notes.push('Maintenance: no maintenance windows are configured (alerts.maintenance), so none is taken out.');

  const total = selection.instances.length + selection.services.length;
  let done = 0;
  const step = (): void => ctx.progress({ stage: 'summary', done: ++done, total });

  const latest = await source.history.latestResults(selection.checks.map((c) => c.checkId));
  const instanceRows = new Map<SelectedInstance, Row>();
  const walks = new Map<string, StatusWalk>();
  for (const service of selection.services) {
    const names = selection.instances.filter((i) => i.service === service).map((i) => i.instance);
    for (const [instance, walk] of await instanceWalks(source.history, service, names, from, to)) walks.set(`${service}/${instance}`, walk);
  }
  for (const inst of selection.instances) {
    const labels = { service: inst.service, instance: inst.instance };
    const windows = maintenanceIntervals(source.maintenance, labels, from, to);
    const subject = { service: inst.service, instance: inst.instance };
    const figures = await uptimeFigures(source.history, subject, from, to, windows);
    const walk = walks.get(`${inst.service}/${inst.instance}`)!;
    let score: number | null = null;
    let scoreAt = -Infinity;
    for (const c of inst.checks) {
      const r = latest.get(c.checkId);
      if (r && r.observedAt < to && r.observedAt > scoreAt && r.instanceScore != null) {
        score = r.instanceScore;
        scoreAt = r.observedAt;
      }
    }
    instanceRows.set(inst, { label: `${inst.service}/${inst.instance}`, figures, longestMs: walk.longestIncidentMs, status: walk.last, score });
    step();
  }

  const narrowed = narrowsInstances(request);
  if (narrowed)
    doc.notes.push(
      "Tags or zones narrow the instances: a service row adds up its selected instances' time (incidents and MTTR too) instead of the service's own status.",
    );
  const serviceRows: Row[] = [];
  const timeline: StatusTimelineChart = { kind: 'status_timeline', id: 'service-status', title: 'Service status over the range', from, to, rows: [] };
  for (const service of selection.services) {
    const mine = [...instanceRows.entries()].filter(([i]) => i.service === service).map(([, r]) => r);
    const scores = mine.map((r) => r.score).filter((s): s is number => s !== null);
    const score = scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null;
    if (narrowed) {
      serviceRows.push({
        label: service,
        figures: sumFigures(mine.map((r) => r.figures)),
        longestMs: Math.max(0, ...mine.map((r) => r.longestMs)),
        status: worst(mine.map((r) => r.status)),
        score,
      });
    } else {
      const windows = maintenanceIntervals(source.maintenance, { service }, from, to);
      const [figures, walk] = await Promise.all([
        uptimeFigures(source.history, { service }, from, to, windows),
        statusWalk(source.history, { service }, from, to),
      ]);
      serviceRows.push({ label: service, figures, longestMs: walk.longestIncidentMs, status: walk.last, score });
      if (timeline.rows.length < MAX_TIMELINE_ROWS) {
        timeline.rows.push({ label: service, segments: compactSegments(withMaintenance(walk.segments, windows), from, to) });
      }
    }
    step();
  }

  const services = new TableBuilder<'service' | 'instances' | Key>('services', 'Services', 'One row per service over the range.', [
    ['service', 'Service', 'text'],
    ['instances', 'Instances', 'integer'],
    ...COLUMNS,
  ]);
  for (const r of serviceRows)
    services.add({ service: r.label, instances: selection.instances.filter((i) => i.service === r.label).length, ...cells(r, objective) });
  const instances = new TableBuilder<'service' | 'instance' | 'zone' | 'tags' | Key>('instances', 'Instances', 'One row per instance over the range.', [
    ['service', 'Service', 'text'],
    ['instance', 'Instance', 'text'],
    ['zone', 'Zone', 'text'],
    ['tags', 'Tags', 'text'],
    ...COLUMNS,
  ]);
  for (const [inst, r] of instanceRows)
    instances.add({ service: inst.service, instance: inst.instance, zone: inst.zone, tags: inst.tags.join(' '), ...cells(r, objective) });
  doc.tables.push(services.table, instances.table);

  const bars: UptimeBarsChart = {
    kind: 'uptime_bars',
    id: 'service-uptime',
    title: 'Uptime per service',
    bars: serviceRows.map((r) => bar(r.label, r.figures, to - from)),
  };
  doc.charts.push(bars);
  if (timeline.rows.length > 0) doc.charts.push(timeline);
  if (timeline.rows.some((r) => r.segments.length >= MAX_SEGMENTS / 2))
    doc.notes.push(`Status timelines with many changes are drawn in ${MAX_SEGMENTS} slots, each showing the worst status in it; the tables hold exact times.`);
  if (selection.instances.length === 0) doc.notes.push('No instance matches the filters: the tables are empty.');
  return doc;
}

function cells(r: Row, objective: number): Record<Key, number | string | null> {
  const f = r.figures;
  const known = f.healthyMs + f.degradedMs + f.unhealthyMs;
  const budget = (1 - objective) * known;
  return {
    uptime_percent: round(f.uptimePercent, 4),
    healthy_ms: f.healthyMs,
    degraded_ms: f.degradedMs,
    unhealthy_ms: f.unhealthyMs,
    unknown_ms: f.unknownMs,
    maintenance_ms: f.maintenanceMs,
    slo_percent: round(objective * 100, 4),
    budget_ms: Math.round(budget),
    budget_remaining_percent: known > 0 ? round((1 - f.unhealthyMs / budget) * 100, 2) : null,
    incidents: f.incidents,
    longest_incident_ms: r.longestMs,
    mttr_ms: f.mttrMs === null ? null : Math.round(f.mttrMs),
    status: r.status,
    score: round(r.score, 1),
  };
}

function bar(label: string, f: UptimeFigures, span: number): UptimeBarsChart['bars'][number] {
  const pct = (ms: number): number => (span > 0 ? round((ms / span) * 100, 4)! : 0);
  return {
    label,
    uptimePercent: round(f.uptimePercent, 4),
    healthy: pct(f.healthyMs),
    degraded: pct(f.degradedMs),
    unhealthy: pct(f.unhealthyMs),
    unknown: pct(f.unknownMs),
    maintenance: pct(f.maintenanceMs),
  };
}

function sumFigures(all: UptimeFigures[]): UptimeFigures {
  const ms = { HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0, UNKNOWN: 0 };
  let maintenance = 0;
  let incidents = 0;
  let recoveries = 0;
  let recoveryMs = 0;
  for (const f of all) {
    ms.HEALTHY += f.healthyMs;
    ms.DEGRADED += f.degradedMs;
    ms.UNHEALTHY += f.unhealthyMs;
    ms.UNKNOWN += f.unknownMs;
    maintenance += f.maintenanceMs;
    incidents += f.incidents;
    recoveries += f.recoveries;
    recoveryMs += (f.mttrMs ?? 0) * f.recoveries;
  }
  return figuresOf(ms, maintenance, incidents, recoveries, recoveries > 0 ? recoveryMs / recoveries : null);
}

const SEVERITY: Record<HealthStatus, number> = { HEALTHY: 0, DEGRADED: 1, UNKNOWN: 2, UNHEALTHY: 3 };
function worst(statuses: HealthStatus[]): HealthStatus {
  return statuses.reduce<HealthStatus>((w, s) => (SEVERITY[s] > SEVERITY[w] ? s : w), statuses.length ? 'HEALTHY' : 'UNKNOWN');
}

/** Segments with maintenance intervals cut in as MAINTENANCE. */
function withMaintenance(
  segments: ReadonlyArray<{ from: number; to: number; status: HealthStatus }>,
  windows: ReadonlyArray<{ start: number; end: number }>,
): StatusTimelineChart['rows'][number]['segments'] {
  if (windows.length === 0) return segments.map((s) => ({ ...s }));
  const out: StatusTimelineChart['rows'][number]['segments'] = [];
  for (const s of segments) {
    let t = s.from;
    for (const w of windows) {
      if (w.end <= t || w.start >= s.to) continue;
      if (w.start > t) out.push({ from: t, to: w.start, status: s.status });
      out.push({ from: Math.max(t, w.start), to: Math.min(s.to, w.end), status: 'MAINTENANCE' });
      t = Math.min(s.to, w.end);
    }
    if (t < s.to) out.push({ from: t, to: s.to, status: s.status });
  }
  return out;
}
