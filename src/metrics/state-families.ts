/**
 * The families that mirror state, computed on scrape: statuses of checks,
 * instances, services and the mesh, flapping, and health scores. They keep
 * nothing of their own, so they can never drift from what the API reports.
 * The set of checks, instances and services comes from the engine; the
 * statuses and scores above check level from the status rollup.
 */
import type { CheckSpec } from '../core/check.js';
import { ALL_STATUSES, type HealthStatus } from '../core/status.js';
import type { Engine } from '../engine.js';
import type { StatusRollup } from '../status/rollup.js';
import type { PerCheckMode } from '../config/metrics.js';
import type { ExtraLabels, InstanceLabels } from './instance-labels.js';
import { FAMILIES } from './names.js';
import type { Sample } from './on-scrape.js';
import { perScrape, type Registrar, type SetValue } from './registrar.js';

/** The part of the Engine these families read. */
export type StateEngine = Pick<Engine, 'all'>;

/** The part of the StatusRollup these families read; it must follow the same engine's bus. */
export type StateRollup = Pick<StatusRollup, 'instance' | 'service' | 'meshStatus' | 'instanceScore' | 'serviceScore'>;

type Labels = Sample['labels'];

/** The instances and services that have at least one check now, each once, in engine order. */
interface Membership {
  instances: { service: string; instance: string }[];
  services: string[];
}

/** `status` first, as the exposition always had it; `sparse`: only the current status's series (value 1). */
function pushStatus(out: Sample[], current: HealthStatus, base: Labels, sparse: boolean): void {
  if (sparse) {
    out.push({ value: 1, labels: { status: current, ...base } });
    return;
  }
  for (const status of ALL_STATUSES) out.push({ value: status === current ? 1 : 0, labels: { status, ...base } });
}

function checkLabels(spec: CheckSpec, extra: ExtraLabels): Labels {
  return { service: spec.service, service_instance: spec.instance, check: spec.id, kind: spec.kind, ...extra };
}

/**
 * Register the state families; `labels` adds the labels_from labels to the
 * per-check and per-instance ones, `perCheck` says which of those to expose
 * (config/metrics.ts).
 */
export function registerStateFamilies(r: Registrar, engine: StateEngine, rollup: StateRollup, labels: InstanceLabels, perCheck: PerCheckMode = 'full'): void {
  const sparse = perCheck === 'status';
  const extraNames = labels.names;
  const withExtra = (names: readonly string[], before: number): string[] => [...names.slice(0, before), ...extraNames, ...names.slice(before)];

  const membership = perScrape((): Membership => {
    const seen = new Map<string, Set<string>>();
    const m: Membership = { instances: [], services: [] };
    for (const { spec } of engine.all()) {
      let instances = seen.get(spec.service);
      if (!instances) {
        instances = new Set();
        seen.set(spec.service, instances);
        m.services.push(spec.service);
      }
      if (instances.has(spec.instance)) continue;
      instances.add(spec.instance);
      m.instances.push({ service: spec.service, instance: spec.instance });
    }
    return m;
  });

  // --- per check and per instance (none of it with per_check: none) ------------------
  const { checkStatus, checkFlapping, instanceStatus, instanceScore, serviceStatus, serviceScore, meshStatus } = FAMILIES;
  if (perCheck !== 'none') registerPerCheck();
  function registerPerCheck(): void {
    r.computedGauge(
      checkStatus,
      (out) => {
        for (const { spec, state } of engine.all()) pushStatus(out, state.status, checkLabels(spec, labels.of(spec.service, spec.instance)), sparse);
      },
      withExtra(checkStatus.labelNames, 4),
    );
    r.computedGauge(
      checkFlapping,
      (out) => {
        for (const { spec, state } of engine.all()) {
          if (sparse && !state.flapping) continue;
          out.push({ value: state.flapping ? 1 : 0, labels: checkLabels(spec, labels.of(spec.service, spec.instance)) });
        }
      },
      withExtra(checkFlapping.labelNames, 4),
    );

    const instanceLabels = (service: string, instance: string): Labels => ({ service, service_instance: instance, ...labels.of(service, instance) });
    r.computedGauge(
      instanceStatus,
      (out) => {
        for (const { service, instance } of membership().instances)
          pushStatus(out, rollup.instance(service, instance), instanceLabels(service, instance), sparse);
      },
      withExtra(instanceStatus.labelNames, 2),
    );
    r.computedGauge(
      instanceScore,
      (out) => {
        for (const { service, instance } of membership().instances)
          out.push({ value: rollup.instanceScore(service, instance), labels: instanceLabels(service, instance) });
      },
      withExtra(instanceScore.labelNames, 2),
    );
  }

  // --- per service and the mesh ----------------------------------------------------
  const setStatus = (set: SetValue, current: HealthStatus, base: Labels): void => {
    for (const status of ALL_STATUSES) set({ status, ...base }, status === current ? 1 : 0);
  };
  r.gauge(serviceStatus, (set) => {
    for (const service of membership().services) setStatus(set, rollup.service(service), { service });
  });
  r.gauge(serviceScore, (set) => {
    for (const service of membership().services) set({ service }, rollup.serviceScore(service));
  });
  r.gauge(meshStatus, (set) => setStatus(set, rollup.meshStatus(), {}));
}
