/** The mesh view's order and filters, apart from rendering so they are tested alone. */
import type { ServiceSummary, Status } from './api';

/** Worst first: UNHEALTHY, UNKNOWN, DEGRADED, HEALTHY (the rollup's severity order), then lowest score, then name. */
const RANK: Record<Status, number> = { UNHEALTHY: 0, UNKNOWN: 1, DEGRADED: 2, HEALTHY: 3 };

export function compareWorstFirst(a: ServiceSummary, b: ServiceSummary): number {
  return RANK[a.status] - RANK[b.status] || a.score - b.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** What the mesh view filters on; '' means any. */
export interface Filters {
  /** Part of the service name, any case. */
  q: string;
  status: Status | '';
  /** A tag of any of its instances. */
  tag: string;
  /** A zone of any of its instances. */
  zone: string;
}

export function matches(row: ServiceSummary, f: Filters): boolean {
  if (f.status && row.status !== f.status) return false;
  if (f.tag && !row.tags.includes(f.tag)) return false;
  if (f.zone && !row.zones.includes(f.zone)) return false;
  if (f.q && !row.name.toLowerCase().includes(f.q.toLowerCase())) return false;
  return true;
}
