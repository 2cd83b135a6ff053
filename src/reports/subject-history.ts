/**
 * Uptime, incidents and the status over time of one instance or service,
 * read from the store's uptime and transitions, with maintenance time taken
 * out. The rule every report states (UPTIME_RULE) lives here.
 */
import type { HealthStatus } from '../core/status.js';
import type { HistoryStore, RangeQuery, TransitionLevel, TransitionRecord, Uptime } from '../store/types.js';
import type { Interval } from './maintenance.js';

/** The uptime rule, stated in every report that shows uptime. */
export const UPTIME_RULE =
  'Uptime % = (HEALTHY + DEGRADED time) / (HEALTHY + DEGRADED + UNHEALTHY time) × 100 over the range, from instance and service status transitions. ' +
  'UNKNOWN time (before anything was known, gaps, beyond uptime retention) and maintenance-window time are shown apart and counted neither up nor down. ' +
  'Incidents: a status becoming UNHEALTHY until it is next HEALTHY or DEGRADED; counted when they began in the range; MTTR is the mean length of those that ended in it; ' +
  'the longest incident is the longest such time inside the range (one cut by the range counts its part inside).';

/** A subject: an instance (service and instance) or a service. */
export interface Subject {
  service: string;
  instance?: string;
}

export interface UptimeFigures {
  /** ms per status outside maintenance, plus maintenance time. */
  healthyMs: number;
  degradedMs: number;
  unhealthyMs: number;
  unknownMs: number;
  maintenanceMs: number;
  /** null when no status was known outside maintenance. */
  uptimePercent: number | null;
  incidents: number;
  recoveries: number;
  mttrMs: number | null;
}

type History = Pick<HistoryStore, 'queryUptime' | 'queryTransitions'>;

/** Uptime of a subject over [from, to) with the maintenance intervals (inside the range, merged) taken out. */
export async function uptimeFigures(history: History, subject: Subject, from: number, to: number, maintenance: readonly Interval[]): Promise<UptimeFigures> {
  const u = await history.queryUptime({ ...subject, from, to });
  const ms = { ...u.ms };
  let maintenanceMs = 0;
  for (const i of maintenance) {
    const m: Uptime = await history.queryUptime({ ...subject, from: i.start, to: i.end });
    for (const s of ['HEALTHY', 'DEGRADED', 'UNHEALTHY', 'UNKNOWN'] as const) ms[s] -= m.ms[s];
    maintenanceMs += i.end - i.start;
  }
  return figuresOf(ms, maintenanceMs, u.incidents, u.recoveries, u.mttrMs);
}

/** Figures from time per status (outside maintenance). */
export function figuresOf(
  ms: Record<HealthStatus, number>,
  maintenanceMs: number,
  incidents: number,
  recoveries: number,
  mttrMs: number | null,
): UptimeFigures {
  const known = ms.HEALTHY + ms.DEGRADED + ms.UNHEALTHY;
  return {
    healthyMs: ms.HEALTHY,
    degradedMs: ms.DEGRADED,
    unhealthyMs: ms.UNHEALTHY,
    unknownMs: ms.UNKNOWN,
    maintenanceMs,
    uptimePercent: known > 0 ? ((ms.HEALTHY + ms.DEGRADED) / known) * 100 : null,
    incidents,
    recoveries,
    mttrMs,
  };
}

/** A status segment [from, to). */
export interface Segment {
  from: number;
  to: number;
  status: HealthStatus;
}

export interface StatusWalk {
  segments: Segment[];
  /** Longest incident time inside the range, ms (0 when none). */
  longestIncidentMs: number;
  /** Status at the end of the range. */
  last: HealthStatus;
}

const PAGE = 10_000;

/**
 * The subject's status over [from, to) from its own transitions (level
 * instance or service): the status at `from` is the `to` of the last
 * transition before it (UNKNOWN when none).
 */
export async function statusWalk(history: History, subject: Subject, from: number, to: number): Promise<StatusWalk> {
  const level: TransitionLevel = subject.instance === undefined ? 'service' : 'instance';
  const base = { service: subject.service, ...(subject.instance !== undefined ? { instance: subject.instance } : {}), levels: [level] };
  const rows = await allTransitions(history, { ...base, from, to });
  return walkRows(await statusBefore(history, base, from), rows, from, to);
}

/**
 * The walks of several instances of one service, from ONE paged query of
 * the service's instance transitions (a summary of 1,000 instances makes 50
 * queries, not 1,000). An instance's status at `from` is the `from` of its
 * first transition in the range, or, without one, the `to` of its last
 * transition before it.
 */
export async function instanceWalks(
  history: History,
  service: string,
  instances: readonly string[],
  from: number,
  to: number,
): Promise<Map<string, StatusWalk>> {
  const rows = await allTransitions(history, { service, levels: ['instance'], from, to });
  const byInstance = new Map<string, TransitionRecord[]>(instances.map((i) => [i, []]));
  for (const t of rows) byInstance.get(t.instance)?.push(t);
  const out = new Map<string, StatusWalk>();
  for (const [instance, mine] of byInstance) {
    const initial = mine.length ? mine[0]!.from : await statusBefore(history, { service, instance, levels: ['instance'] }, from);
    out.set(instance, walkRows(initial, mine, from, to));
  }
  return out;
}

async function allTransitions(history: History, query: RangeQuery): Promise<TransitionRecord[]> {
  const rows: TransitionRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await history.queryTransitions({ ...query, limit: PAGE, cursor });
    rows.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return rows;
}

/** The status left by the last transition before `at` (UNKNOWN when none). */
async function statusBefore(history: History, query: RangeQuery, at: number): Promise<HealthStatus> {
  const before = await history.queryTransitions({ ...query, to: at, order: 'desc', limit: 1 });
  return before.items[0]?.to ?? 'UNKNOWN';
}

/** Segments, longest incident and last status from the status at `from` and the transitions of [from, to). */
function walkRows(initial: HealthStatus, rows: readonly TransitionRecord[], from: number, to: number): StatusWalk {
  let status = initial;
  let t = from;
  let incidentStart: number | null = status === 'UNHEALTHY' ? from : null;
  let longest = 0;
  const segments: Segment[] = [];
  for (const tr of rows) {
    if (tr.at > t) segments.push({ from: t, to: tr.at, status });
    status = tr.to;
    t = Math.max(t, tr.at);
    if (status === 'UNHEALTHY' && incidentStart === null) incidentStart = tr.at;
    else if ((status === 'HEALTHY' || status === 'DEGRADED') && incidentStart !== null) {
      longest = Math.max(longest, tr.at - incidentStart);
      incidentStart = null;
    }
  }
  if (to > t) segments.push({ from: t, to, status });
  if (incidentStart !== null) longest = Math.max(longest, to - incidentStart);
  return { segments: mergeSegments(segments), longestIncidentMs: longest, last: status };
}

function mergeSegments(segments: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segments) {
    const last = out[out.length - 1];
    if (last && last.status === s.status && last.to === s.from) last.to = s.to;
    else out.push({ ...s });
  }
  return out;
}

/** Most segments a status timeline row is drawn with. */
export const MAX_SEGMENTS = 600;

/** Which status shows when several share a slot: the worst one, so a short incident stays visible. */
const SHOW_RANK: Record<string, number> = { UNHEALTHY: 5, DEGRADED: 4, MAINTENANCE: 3, UNKNOWN: 2, HEALTHY: 1 };

/**
 * Segments for a chart: unchanged when there are at most `max`; otherwise
 * [from, to) is cut into `max` equal slots, each showing the worst status
 * seen in it, and equal neighbours are merged. Tables keep the exact times.
 */
export function compactSegments<S extends string>(
  segments: ReadonlyArray<{ from: number; to: number; status: S }>,
  from: number,
  to: number,
  max = MAX_SEGMENTS,
): Array<{ from: number; to: number; status: S }> {
  if (segments.length <= max) return segments.map((s) => ({ ...s }));
  const width = (to - from) / max;
  const out: Array<{ from: number; to: number; status: S }> = [];
  let k = 0;
  for (let i = 0; i < max; i++) {
    const a = from + i * width;
    const b = i === max - 1 ? to : from + (i + 1) * width;
    while (k < segments.length && segments[k]!.to <= a) k++;
    let pick: S | null = null;
    for (let j = k; j < segments.length && segments[j]!.from < b; j++) {
      const s = segments[j]!.status;
      if (pick === null || (SHOW_RANK[s] ?? 0) > (SHOW_RANK[pick] ?? 0)) pick = s;
    }
    if (pick === null) continue;
    const last = out[out.length - 1];
    if (last && last.status === pick && last.to === Math.round(a)) last.to = Math.round(b);
    else out.push({ from: Math.round(a), to: Math.round(b), status: pick });
  }
  return out;
}
