import type { HealthStatus } from '../core/status.js';
import type { InstanceRecord, Registry } from '../registry/registry.js';
import { pageOfUnion, SortedIds } from './sorted-ids.js';

/** What an instance list asks for: every instance, HEALTHY only, or HEALTHY and DEGRADED. */
export type InstanceFilter = 'any' | 'healthy' | 'passing';

/** Statuses each filter keeps (`passing` includes DEGRADED, which still serves). */
const WANTED: Record<Exclude<InstanceFilter, 'any'>, HealthStatus[]> = {
  healthy: ['HEALTHY'],
  passing: ['HEALTHY', 'DEGRADED'],
};

/** One service's instance ids, sorted, in all and by status. */
interface ServiceLists {
  all: SortedIds;
  byStatus: Record<HealthStatus, SortedIds>;
  /** The status list each id is filed in. */
  filed: Map<string, HealthStatus>;
  /** Ids whose record or status may have changed since they were filed. */
  dirty: Set<string>;
}

/**
 * Pages of a service's instances, filtered by status, in O(page) rather than
 * O(instances of the service): each service keeps its ids sorted, overall and
 * per status. A change only marks its instance; the next read of that
 * service refiles the marked ones (the rollup has settled by then, whatever
 * the order of listeners on the bus). Lists are built on a service's first
 * read; a service with more marked instances than are worth refiling one by
 * one is dropped and built again on its next read.
 */
export class InstanceLists {
  private readonly services = new Map<string, ServiceLists>();
  private readonly off: () => void;

  constructor(
    private readonly registry: Pick<Registry, 'instancesOf' | 'instanceOf' | 'onChange'>,
    private readonly statusOf: (service: string, id: string) => HealthStatus,
  ) {
    this.off = registry.onChange((service, instance) => this.mark(service, instance));
  }

  /** The first `limit` instances of `service` after the id `after` that pass `filter`, in id order, and whether more follow. */
  page(service: string, filter: InstanceFilter, limit: number, after?: string): { items: InstanceRecord[]; more: boolean } {
    const lists = this.current(service);
    if (!lists) return { items: [], more: false };
    const sources = filter === 'any' ? [lists.all] : WANTED[filter].map((s) => lists.byStatus[s]);
    const { ids, more } = pageOfUnion(sources, after, limit);
    return { items: ids.map((id) => this.registry.instanceOf(service, id)!), more };
  }

  /** Stop following the registry. */
  close(): void {
    this.off();
    this.services.clear();
  }

  private mark(service: string, instance: string | undefined): void {
    const lists = this.services.get(service);
    if (!lists) return;
    // Refiling one id can move the tail of a list; past this many a rebuild (a sort) is cheaper.
    if (instance === undefined || lists.dirty.size >= 32 + (lists.all.size >> 4)) this.services.delete(service);
    else lists.dirty.add(instance);
  }

  /** The service's lists with every marked id refiled; undefined for a service without instances. */
  private current(service: string): ServiceLists | undefined {
    let lists = this.services.get(service);
    if (!lists) {
      const records = this.registry.instancesOf(service);
      if (records.length === 0) return undefined; // not kept: any name can be asked for
      lists = this.build(service, records);
      this.services.set(service, lists);
      return lists;
    }
    for (const id of lists.dirty) this.refile(service, lists, id);
    lists.dirty.clear();
    if (lists.all.size === 0) this.services.delete(service);
    return lists;
  }

  private build(service: string, records: InstanceRecord[]): ServiceLists {
    const grouped: Record<HealthStatus, string[]> = { HEALTHY: [], DEGRADED: [], UNHEALTHY: [], UNKNOWN: [] };
    const filed = new Map<string, HealthStatus>();
    for (const rec of records) {
      const status = this.statusOf(service, rec.id);
      grouped[status].push(rec.id);
      filed.set(rec.id, status);
    }
    return {
      all: new SortedIds(records.map((r) => r.id)),
      byStatus: {
        HEALTHY: new SortedIds(grouped.HEALTHY),
        DEGRADED: new SortedIds(grouped.DEGRADED),
        UNHEALTHY: new SortedIds(grouped.UNHEALTHY),
        UNKNOWN: new SortedIds(grouped.UNKNOWN),
      },
      filed,
      dirty: new Set(),
    };
  }

  private refile(service: string, lists: ServiceLists, id: string): void {
    const was = lists.filed.get(id);
    if (!this.registry.instanceOf(service, id)) {
      if (was === undefined) return;
      lists.all.delete(id);
      lists.byStatus[was].delete(id);
      lists.filed.delete(id);
      return;
    }
    const status = this.statusOf(service, id);
    if (status === was) return;
    if (was === undefined) lists.all.add(id);
    else lists.byStatus[was].delete(id);
    lists.byStatus[status].add(id);
    lists.filed.set(id, status);
  }
}
