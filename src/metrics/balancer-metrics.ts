/**
 * Prometheus families of the load balancers, computed on scrape from each
 * service's balancer snapshot; ejections by detector are counted from the
 * balancers' events (a snapshot only has the total).
 */
import type { Metric, Registry } from 'prom-client';
import type { BalancerSet } from '../balancer/balancer-set.js';
import type { BalancerEvent } from '../balancer/service-balancer.js';
import { ComputedFamily, NO_LABELS, type Labels, type Sample } from './computed.js';
import { BALANCER_FAMILIES, type FamilySpec } from './names.js';

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;
const BREAKER_LABELS = BREAKER_STATES.map((state) => Object.freeze({ state }));

/** Register the balancer families; returns a function that unregisters them and stops counting. */
export function registerBalancerMetrics(registry: Registry, set: BalancerSet, onError: (err: unknown, family: string) => void = () => {}): () => void {
  const added: string[] = [];
  const add = (spec: FamilySpec, sample: (out: Sample[]) => void): void => {
    registry.registerMetric(new ComputedFamily(spec, sample, onError) as unknown as Metric);
    added.push(spec.name);
  };
  // service → instance → detector → count; an instance that left is forgotten at the next scrape, so churn stays bounded.
  const ejections = new Map<string, Map<string, Map<string, number>>>();
  const off = set.on((e: BalancerEvent) => {
    if (e.type !== 'outlier' || e.change.type !== 'eject') return;
    let byInstance = ejections.get(e.service);
    if (!byInstance) ejections.set(e.service, (byInstance = new Map()));
    let byDetector = byInstance.get(e.change.id);
    if (!byDetector) byInstance.set(e.change.id, (byDetector = new Map()));
    byDetector.set(e.change.detector, (byDetector.get(e.change.detector) ?? 0) + 1);
  });

  // One snapshot per service per scrape, shared by every family.
  let cache: { snaps: ReturnType<BalancerSet['snapshot']>[] } | null = null;
  const snapshots = () => {
    if (!cache) {
      cache = { snaps: set.services().map((s) => set.snapshot(s)) };
      queueMicrotask(() => (cache = null));
    }
    return cache.snaps;
  };
  const perInstance = (spec: FamilySpec, value: (m: NonNullable<ReturnType<BalancerSet['snapshot']>>['instances'][number]) => number): void =>
    add(spec, (out) => {
      for (const snap of snapshots()) {
        if (!snap) continue;
        for (const m of snap.instances) out.push({ value: value(m), labels: NO_LABELS, sharedLabels: { service: snap.service, service_instance: m.id } });
      }
    });

  perInstance(BALANCER_FAMILIES.balancerPicks, (m) => m.picks);
  perInstance(BALANCER_FAMILIES.balancerEjected, (m) => (m.outlier?.ejected ? 1 : 0));
  perInstance(BALANCER_FAMILIES.balancerBreakerOpens, (m) => m.breaker?.opens ?? 0);
  perInstance(BALANCER_FAMILIES.balancerWeight, (m) => m.effectiveWeight);
  perInstance(BALANCER_FAMILIES.balancerSlowStart, (m) => m.slowStart?.factor ?? 1);
  add(BALANCER_FAMILIES.balancerEjectedUntil, (out) => {
    for (const snap of snapshots()) {
      if (!snap) continue;
      for (const m of snap.instances) {
        const until = m.outlier?.returnsAt;
        if (until != null) out.push({ value: until / 1000, labels: NO_LABELS, sharedLabels: { service: snap.service, service_instance: m.id } });
      }
    }
  });
  add(BALANCER_FAMILIES.balancerBreakerState, (out) => {
    for (const snap of snapshots()) {
      if (!snap) continue;
      for (const m of snap.instances) {
        if (!m.breaker) continue;
        const shared: Labels = { service: snap.service, service_instance: m.id };
        BREAKER_STATES.forEach((state, i) => out.push({ value: m.breaker!.state === state ? 1 : 0, labels: BREAKER_LABELS[i]!, sharedLabels: shared }));
      }
    }
  });
  add(BALANCER_FAMILIES.balancerEjections, (out) => {
    const present = new Map(snapshots().flatMap((snap) => (snap ? [[snap.service, new Set(snap.instances.map((m) => m.id))] as const] : [])));
    for (const [service, byInstance] of ejections) {
      for (const [instance, byDetector] of byInstance) {
        if (!present.get(service)?.has(instance)) {
          byInstance.delete(instance);
          continue;
        }
        for (const [detector, count] of byDetector) out.push({ value: count, labels: { detector }, sharedLabels: { service, service_instance: instance } });
      }
    }
  });
  add(BALANCER_FAMILIES.balancerPanic, (out) => {
    for (const snap of snapshots()) if (snap) out.push({ value: snap.panic ? 1 : 0, labels: NO_LABELS, sharedLabels: { service: snap.service } });
  });
  add(BALANCER_FAMILIES.balancerHealthyShare, (out) => {
    for (const snap of snapshots()) if (snap) out.push({ value: snap.healthyShare, labels: NO_LABELS, sharedLabels: { service: snap.service } });
  });

  return () => {
    off();
    for (const name of added) registry.removeSingleMetric(name);
  };
}
