/**
 * Prometheus families of the load balancers, computed on scrape from each
 * service's balancer snapshot; ejections by detector are counted from the
 * balancers' events (a snapshot only has the total).
 */
import type { Registry } from 'prom-client';
import type { BalancerSet } from '../balancer/balancer-set.js';
import type { BalancerEvent } from '../balancer/service-balancer.js';
import { BALANCER_FAMILIES, type FamilySpec } from './names.js';
import type { Sample } from './on-scrape.js';
import { Registrar, untilScrapeEnds } from './registrar.js';
import type { PerCheckMode } from '../config/metrics.js';

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;

/**
 * Register the balancer families; returns a function that unregisters them
 * and stops counting. `perInstance` (metrics.per_check): `full` every
 * per-instance series; `status` only those away from their resting value (an
 * ejected instance, a breaker not closed, slow start under way); `none` the
 * per-service families only.
 */
export function registerBalancerMetrics(
  registry: Registry,
  set: BalancerSet,
  onError: (err: unknown, family: string) => void = () => {},
  perInstance: PerCheckMode = 'full',
): () => void {
  const sparse = perInstance === 'status';
  const r = new Registrar(registry, onError);
  // service → instance → detector → count; an instance that left is forgotten at the next scrape, so churn stays bounded.
  const ejections = new Map<string, Map<string, Map<string, number>>>();
  const off = set.on((e: BalancerEvent) => {
    if (e.type !== 'outlier' || e.change.type !== 'eject') return;
    let byInstance = ejections.get(e.service);
    if (!byInstance) {
      byInstance = new Map();
      ejections.set(e.service, byInstance);
    }
    let byDetector = byInstance.get(e.change.id);
    if (!byDetector) {
      byDetector = new Map();
      byInstance.set(e.change.id, byDetector);
    }
    byDetector.set(e.change.detector, (byDetector.get(e.change.detector) ?? 0) + 1);
  });

  // One snapshot per service per scrape, shared by every family.
  let cache: { snaps: ReturnType<BalancerSet['snapshot']>[] } | null = null;
  const snapshots = () => {
    if (!cache) {
      const entry = { snaps: set.services().map((s) => set.snapshot(s)) };
      cache = entry;
      untilScrapeEnds(() => {
        if (cache === entry) cache = null;
      });
    }
    return cache.snaps;
  };
  type Member = NonNullable<ReturnType<BalancerSet['snapshot']>>['instances'][number];
  // Families with a series per instance are computed on scrape (on-scrape.ts says why); per service, public collect().
  /** `rest`: the value at rest, left out when sparse; undefined: the family is left out when sparse. */
  const perInstanceFamily = (spec: FamilySpec, type: 'gauge' | 'counter', value: (m: Member) => number, rest?: number): void => {
    if (perInstance === 'none' || (sparse && rest === undefined)) return;
    const sample = (out: Sample[]): void => {
      for (const snap of snapshots()) {
        if (!snap) continue;
        for (const m of snap.instances) {
          const v = value(m);
          if (sparse && v === rest) continue;
          out.push({ value: v, labels: { service: snap.service, service_instance: m.id } });
        }
      }
    };
    if (type === 'gauge') r.computedGauge(spec, sample);
    else r.computedCounter(spec, sample);
  };

  perInstanceFamily(BALANCER_FAMILIES.balancerPicks, 'counter', (m) => m.picks);
  perInstanceFamily(BALANCER_FAMILIES.balancerEjected, 'gauge', (m) => (m.outlier?.ejected ? 1 : 0), 0);
  perInstanceFamily(BALANCER_FAMILIES.balancerBreakerOpens, 'counter', (m) => m.breaker?.opens ?? 0);
  perInstanceFamily(BALANCER_FAMILIES.balancerWeight, 'gauge', (m) => m.effectiveWeight);
  perInstanceFamily(BALANCER_FAMILIES.balancerSlowStart, 'gauge', (m) => m.slowStart?.factor ?? 1, 1);
  if (perInstance !== 'none') registerSparseFamilies();
  function registerSparseFamilies(): void {
    r.computedGauge(BALANCER_FAMILIES.balancerEjectedUntil, (out) => {
      for (const snap of snapshots()) {
        if (!snap) continue;
        for (const m of snap.instances) {
          const until = m.outlier?.returnsAt;
          if (until != null) out.push({ value: until / 1000, labels: { service: snap.service, service_instance: m.id } });
        }
      }
    });
    r.computedGauge(BALANCER_FAMILIES.balancerBreakerState, (out) => {
      for (const snap of snapshots()) {
        if (!snap) continue;
        for (const m of snap.instances) {
          const breaker = m.breaker;
          if (!breaker) continue;
          if (sparse) {
            if (breaker.state !== 'closed') out.push({ value: 1, labels: { state: breaker.state, service: snap.service, service_instance: m.id } });
            continue;
          }
          for (const state of BREAKER_STATES)
            out.push({ value: breaker.state === state ? 1 : 0, labels: { state, service: snap.service, service_instance: m.id } });
        }
      }
    });
    r.computedCounter(BALANCER_FAMILIES.balancerEjections, (out) => {
      const present = new Map(snapshots().flatMap((snap) => (snap ? [[snap.service, new Set(snap.instances.map((m) => m.id))] as const] : [])));
      for (const [service, byInstance] of ejections) {
        for (const [instance, byDetector] of byInstance) {
          if (!present.get(service)?.has(instance)) {
            byInstance.delete(instance);
            continue;
          }
          for (const [detector, count] of byDetector) out.push({ value: count, labels: { detector, service, service_instance: instance } });
        }
      }
    });
  }
  r.gauge(BALANCER_FAMILIES.balancerPanic, (set) => {
    for (const snap of snapshots()) if (snap) set({ service: snap.service }, snap.panic ? 1 : 0);
  });
  r.gauge(BALANCER_FAMILIES.balancerHealthyShare, (set) => {
    for (const snap of snapshots()) if (snap) set({ service: snap.service }, snap.healthyShare);
  });

  return () => {
    off();
    r.unregister();
  };
}
