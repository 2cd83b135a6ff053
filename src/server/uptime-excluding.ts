/**
 * Uptime with maintenance left out (`?exclude_maintenance=true` on the
 * uptime routes): [from, to) is cut into the stretches outside the
 * maintenance windows covering the subject, the store's exact uptime is
 * read for each, and the figures are added up. Time inside the windows is
 * reported apart as `maintenanceMs` and counts in no status, so
 * `uptimePercent` is over the known time outside maintenance. An incident
 * is counted in the stretch it began in (one spanning a window counts once
 * on each side, and its time inside the window is not part of MTTR).
 */
import { outside } from '../alerts/maintenance-time.js';
import type { HistoryStore, Uptime, UptimeQuery } from '../store/types.js';

/** Maintenance time of a subject: merged [start, end) intervals overlapping [from, to). */
export type MaintenanceIntervals = (labels: Record<string, string>, from: number, to: number) => Array<[number, number]>;

/** The uptime of the query outside maintenance, and the time inside it. */
export async function uptimeExcluding(
  store: Pick<HistoryStore, 'queryUptime'>,
  query: UptimeQuery,
  intervals: MaintenanceIntervals,
): Promise<Uptime & { maintenanceMs: number }> {
  const labels: Record<string, string> = query.instance !== undefined ? { service: query.service, instance: query.instance } : { service: query.service };
  const windows = intervals(labels, query.from, query.to);
  const maintenanceMs = windows.reduce((sum, [s, e]) => sum + (e - s), 0);
  if (windows.length === 0) return { ...(await store.queryUptime(query)), maintenanceMs: 0 };
  const ms = { HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0, UNKNOWN: 0 };
  let incidents = 0;
  let recoveries = 0;
  let mttrSum = 0;
  let openIncidentSince: number | null = null;
  for (const [from, to] of outside(query.from, query.to, windows)) {
    const u = await store.queryUptime({ ...query, from, to });
    for (const k of Object.keys(ms) as Array<keyof typeof ms>) ms[k] += u.ms[k];
    incidents += u.incidents;
    recoveries += u.recoveries;
    if (u.mttrMs !== null) mttrSum += u.mttrMs * u.recoveries;
    openIncidentSince = u.openIncidentSince;
  }
  const up = ms.HEALTHY + ms.DEGRADED;
  const known = up + ms.UNHEALTHY;
  return {
    from: query.from,
    to: query.to,
    ms,
    uptimePercent: known > 0 ? (up / known) * 100 : null,
    incidents,
    recoveries,
    mttrMs: recoveries > 0 ? mttrSum / recoveries : null,
    openIncidentSince,
    maintenanceMs,
  };
}
