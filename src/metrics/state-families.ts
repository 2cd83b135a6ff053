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
import { keptLabels } from './sample-text.js';
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
function pushStatus(out: Sample[], current: HealthStatus, set: LabelSet, sparse: boolean): void {
  if (sparse) {
    out.push({ value: 1, labels: set.withStatus(current) });
    return;
  }
  for (const status of ALL_STATUSES) out.push({ value: status === current ? 1 : 0, labels: set.withStatus(status) });
}

/** The labels of one check or instance, and the same with each `status` first, made once. */
class LabelSet {
  // A plain object, not a Map: a Map's table is ~300 bytes, and there is a set per check and per instance.
  private readonly byStatus: Partial<Record<HealthStatus, Labels>> = {};

  readonly base: Labels;

  constructor(base: Labels) {
    this.base = keptLabels(base);
  }

  withStatus(status: HealthStatus): Labels {
    let labels = this.byStatus[status];
    if (!labels) {
      labels = keptLabels({ status, ...this.base });
      this.byStatus[status] = labels;
    }
    return labels;
  }
}

/**
 * Label sets kept between scrapes: per check spec (a changed check is a new
 * spec), and per instance (those no longer scraped are dropped at the next
 * scrape). With labels_from, whose values may change with an instance's
 * metadata, a set is kept only while those values stay the same.
 */
class KeptLabels {
  private readonly checks = new WeakMap<CheckSpec, { extra: ExtraLabels; set: LabelSet }>();
  private instances = new Map<string, { extra: ExtraLabels; set: LabelSet }>();
  private previous = new Map<string, { extra: ExtraLabels; set: LabelSet }>();

  constructor(private readonly labels: InstanceLabels) {}

  check(spec: CheckSpec): LabelSet {
    const extra = this.labels.of(spec.service, spec.instance);
    const entry = this.checks.get(spec);
    if (entry && sameExtra(entry.extra, extra)) return entry.set;
    const set = new LabelSet(checkLabels(spec, extra));
    this.checks.set(spec, { extra, set });
    return set;
  }

  /** Start a scrape: instances not asked for during it are forgotten at the next. */
  newScrape(): void {
    this.previous = this.instances;
    this.instances = new Map();
  }

  instance(service: string, instance: string): LabelSet {
    const key = `${service}\u0000${instance}`;
    const extra = this.labels.of(service, instance);
    const entry = this.instances.get(key) ?? this.previous.get(key);
    if (entry && sameExtra(entry.extra, extra)) {
      this.instances.set(key, entry);
      return entry.set;
    }
    const set = new LabelSet({ service, service_instance: instance, ...extra });
    this.instances.set(key, { extra, set });
    return set;
  }
}

function sameExtra(a: ExtraLabels, b: ExtraLabels): boolean {
  if (a === b) return true;
  for (const key in b) if (a[key] !== b[key]) return false;
  return true;
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
  // Label objects are kept between scrapes (sample-text.ts formats each object once).
  const kept = new KeptLabels(labels);
  const { checkStatus, checkFlapping, instanceStatus, instanceScore, serviceStatus, serviceScore, meshStatus } = FAMILIES;
  if (perCheck !== 'none') registerPerCheck();
  function registerPerCheck(): void {
    r.computedGauge(
      checkStatus,
      (out) => {
        for (const { spec, state } of engine.all()) pushStatus(out, state.status, kept.check(spec), sparse);
      },
      withExtra(checkStatus.labelNames, 4),
    );
    r.computedGauge(
      checkFlapping,
      (out) => {
        for (const { spec, state } of engine.all()) {
          if (sparse && !state.flapping) continue;
          out.push({ value: state.flapping ? 1 : 0, labels: kept.check(spec).base });
        }
      },
      withExtra(checkFlapping.labelNames, 4),
    );
    r.computedGauge(
      instanceStatus,
      (out) => {
        kept.newScrape();
        for (const { service, instance } of membership().instances)
          pushStatus(out, rollup.instance(service, instance), kept.instance(service, instance), sparse);
      },
      withExtra(instanceStatus.labelNames, 2),
    );
    r.computedGauge(
      instanceScore,
      (out) => {
        for (const { service, instance } of membership().instances)
          out.push({ value: rollup.instanceScore(service, instance), labels: kept.instance(service, instance).base });
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
