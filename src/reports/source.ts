/**
 * What report builders read: the history store's queries, the catalog of
 * checks the store holds, a streaming scan of raw results, the alert state
 * when there is one, and the topology (tags, zones, maintenance windows)
 * from the config and run-time registrations. One port, so a builder never
 * touches a backend; sqlite-source.ts is the SQLite adapter.
 */
import type { AlertStore } from '../alerts/store.js';
import type { MaintenanceConfig } from '../config/alerts.js';
import type { HistoryStore } from '../store/types.js';

/** A check the store holds history of. */
export interface CatalogCheck {
  checkId: string;
  service: string;
  instance: string;
  kind: string;
}

/** Tags and zone of an instance, from the config or its registration. */
export interface InstanceTopology {
  tags: readonly string[];
  zone: string | null;
}

/**
 * Called for each raw result of a scan: `check` is the index of its check in
 * the list given to `scanResults`, `status` the storage code (0 HEALTHY, 1
 * DEGRADED, 2 UNHEALTHY, 3 UNKNOWN), `durationMs` its run time.
 */
export type ResultVisitor = (check: number, observedAt: number, status: number, reason: string, durationMs: number) => void;

/** Where a report's data comes from. */
export interface ReportSource {
  readonly history: Pick<HistoryStore, 'queryRollups' | 'queryUptime' | 'queryTransitions' | 'latestResults'>;
  /** Every check the store knows, ordered by check id. */
  catalog(): Promise<CatalogCheck[]>;
  /**
   * Visit the raw results of `checks` observed in [from, to), in order of
   * their minute (within a minute in storage order), one minute at a time:
   * memory does not grow with the range. `onMinute` is told each minute
   * start once its rows were visited (so callers can close periods).
   * Raw results older than the store's retention are gone: `rawFrom` says
   * from when they are kept.
   */
  scanResults(checks: readonly string[], from: number, to: number, visit: ResultVisitor, onMinute?: (minuteStart: number) => void): Promise<void>;
  /**
   * Visit the numeric facts (ResultRecord.metrics) of `checks`' raw results
   * in [from, to), minute by minute like scanResults; results without any
   * are skipped.
   */
  scanMetrics(
    checks: readonly string[],
    from: number,
    to: number,
    visit: (check: number, observedAt: number, metrics: Record<string, number>) => void,
  ): Promise<void>;
  /** Oldest time raw results are kept from (epoch ms), or null when unknown. */
  rawFrom(): Promise<number | null>;
  /** Tags and zone of `service/instance`, or undefined when neither the config nor a registration names it. */
  topology(service: string, instance: string): InstanceTopology | undefined;
  /** Maintenance windows (from the config's alerts section). */
  readonly maintenance: readonly MaintenanceConfig[];
  /** The alert state kept beside the history, or null when this store has none. */
  readonly alerts: Pick<AlertStore, 'loadAlerts' | 'notifierStats'> | null;
}
