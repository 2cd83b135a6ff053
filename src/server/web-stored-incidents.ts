import type { RangeQuery, Page, TransitionRecord } from '../store/types.js';
import type { Incident } from './web-incidents.js';

/** The part of a store that keeps service-level transitions. */
export interface TransitionStore {
  queryTransitions(query: RangeQuery): Promise<Page<TransitionRecord>>;
}

/** Where a status page reads its incidents from. */
export interface IncidentSource {
  /** Incidents of these services, newest first, at most `limit`. */
  of(services: readonly string[], limit: number, now: number): Incident[] | Promise<Incident[]>;
}

/** How far back a status page looks for incidents (its uptime bars cover 90 days). */
export const INCIDENT_LOOKBACK_MS = 90 * 86_400_000;
/**
 * Service transitions read per service, newest first. A service that changed
 * status more often than this in 90 days shows its most recent incidents only.
 */
const ROWS_PER_SERVICE = 2_000;

/**
 * Incidents rebuilt from the store's service-level transitions, so a status
 * page's history survives restarts. The rule is the store's uptime rule: an
 * incident begins when the service becomes UNHEALTHY while none is open and
 * ends when it is next HEALTHY or DEGRADED (UNKNOWN in between does not end
 * it). An incident whose beginning lies before the rows read is left out
 * rather than shown with a wrong start.
 */
export class StoredIncidents implements IncidentSource {
  constructor(private readonly store: TransitionStore) {}

  async of(services: readonly string[], limit: number, now: number): Promise<Incident[]> {
    const all: Incident[] = [];
    for (const service of services) all.push(...(await this.ofService(service, now)));
    return all.sort((a, b) => b.start - a.start).slice(0, limit);
  }

  private async ofService(service: string, now: number): Promise<Incident[]> {
    const page = await this.store.queryTransitions({
      service,
      levels: ['service'],
      from: now - INCIDENT_LOOKBACK_MS,
      to: now + 1,
      order: 'desc',
      limit: ROWS_PER_SERVICE,
    });
    // With more rows than read, an UNKNOWN → UNHEALTHY first row may continue an incident begun before them.
    return incidentsFrom(service, [...page.items].reverse(), page.nextCursor === null);
  }
}

/**
 * Incidents of one service from its transitions, oldest first. `complete`
 * says the rows begin at the start of the service's history (or of the
 * lookback); when they do not, the first incident is kept only if its first
 * row came from HEALTHY or DEGRADED, which proves nothing was open before it.
 */
export function incidentsFrom(service: string, oldestFirst: readonly TransitionRecord[], complete: boolean): Incident[] {
  const out: Incident[] = [];
  let open: Incident | null = null;
  let provenClosed = complete;
  for (const t of oldestFirst) {
    if (t.from === 'HEALTHY' || t.from === 'DEGRADED') provenClosed = true;
    if (t.to === 'UNHEALTHY' && open === null && t.from !== 'UNHEALTHY' && provenClosed) {
      open = { service, start: t.at, end: null, cause: t.output };
      out.push(open);
    } else if (open !== null && (t.to === 'HEALTHY' || t.to === 'DEGRADED')) {
      open.end = t.at;
      open = null;
    }
    if (t.to === 'HEALTHY' || t.to === 'DEGRADED') provenClosed = true;
  }
  return out;
}
