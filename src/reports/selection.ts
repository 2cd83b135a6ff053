/**
 * Which services, instances and checks a report covers: the store's catalog
 * narrowed by the request's services, tags and zones. A service the store
 * never heard of is a usage error naming the field, never an empty report.
 */
import { UsageError } from '../core/errors.js';
import type { CatalogCheck, ReportSource } from './source.js';
import type { ReportRequest } from './types.js';

/** One instance of the report with its checks. */
export interface SelectedInstance {
  service: string;
  instance: string;
  tags: readonly string[];
  zone: string | null;
  checks: CatalogCheck[];
}

export interface Selection {
  /** Services with at least one selected instance, sorted. */
  services: string[];
  /** Instances sorted by service, then name. */
  instances: SelectedInstance[];
  /** Every selected check, in instance order. */
  checks: CatalogCheck[];
}

/** Narrow the catalog to what the request asks for. */
export async function selectSubjects(source: ReportSource, request: Pick<ReportRequest, 'services' | 'tags' | 'zones'>): Promise<Selection> {
  const catalog = await source.catalog();
  const known = new Set(catalog.map((c) => c.service));
  for (const s of request.services) {
    if (!known.has(s)) {
      const list = [...known].sort().slice(0, 10).join(', ');
      throw new UsageError(
        `service: no history of service "${s}" in this store${list ? ` (services: ${list}${known.size > 10 ? ', …' : ''})` : ' (it holds no history yet)'}`,
      );
    }
  }
  const services = new Set(request.services);
  const byInstance = new Map<string, SelectedInstance>();
  for (const c of catalog) {
    if (services.size > 0 && !services.has(c.service)) continue;
    const key = `${c.service}/${c.instance}`;
    let inst = byInstance.get(key);
    if (!inst) {
      const topo = source.topology(c.service, c.instance);
      inst = { service: c.service, instance: c.instance, tags: topo?.tags ?? [], zone: topo?.zone ?? null, checks: [] };
      byInstance.set(key, inst);
    }
    inst.checks.push(c);
  }
  const instances = [...byInstance.values()]
    .filter((i) => request.tags.length === 0 || request.tags.some((t) => i.tags.includes(t)))
    .filter((i) => request.zones.length === 0 || (i.zone !== null && request.zones.includes(i.zone)))
    .sort((a, b) => (a.service === b.service ? cmp(a.instance, b.instance) : cmp(a.service, b.service)));
  return {
    services: [...new Set(instances.map((i) => i.service))],
    instances,
    checks: instances.flatMap((i) => i.checks),
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when the request narrows instances inside services (tags, zones): service-level figures then do not apply. */
export function narrowsInstances(request: Pick<ReportRequest, 'tags' | 'zones'>): boolean {
  return request.tags.length > 0 || request.zones.length > 0;
}
