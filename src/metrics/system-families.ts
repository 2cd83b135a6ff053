/**
 * The `system` check's readings as gauges (CPU, memory, disk per configured
 * path, load), computed on scrape from each system check's last result, so
 * a dashboard need not parse result JSON.
 *
 * Labels stay bounded: service, service_instance, the labels_from labels and,
 * for disks, `mount` (a path from the config, never from the machine). A
 * reading the last run did not make (the run failed, or the resource is not
 * configured) has no series rather than a stale one. Two system checks of one
 * instance measuring the same resource give one series: the one the engine
 * lists last.
 */
import type { CheckSpec } from '../core/check.js';
import { systemPlan } from '../checks/system.js';
import type { StateEngine } from './state-families.js';
import type { InstanceLabels } from './instance-labels.js';
import { FAMILIES, type FamilySpec } from './names.js';
import type { Sample } from './on-scrape.js';
import { perScrape, type Registrar } from './registrar.js';

/** A watched path and the result-metric key that holds its used share. */
interface DiskKey {
  mount: string;
  metric: string;
}

/** Disk keys of a spec, derived once: the check names its metrics with systemPlan's keys (`disk_used_root`). */
const diskKeysOf = new WeakMap<CheckSpec, DiskKey[]>();
function diskKeys(spec: CheckSpec): DiskKey[] {
  let keys = diskKeysOf.get(spec);
  if (keys === undefined) {
    keys = spec.config.kind === 'system' ? systemPlan(spec.config, 1).disks.map((d) => ({ mount: d.path, metric: `disk_used_${d.key}` })) : [];
    diskKeysOf.set(spec, keys);
  }
  return keys;
}

/** The last result metrics of every system check, with the labels of its instance. */
interface Reading {
  spec: CheckSpec;
  metrics: Readonly<Record<string, number>>;
  labels: Sample['labels'];
}

/** Register the system gauges. */
export function registerSystemFamilies(r: Registrar, engine: StateEngine, labels: InstanceLabels): void {
  const readings = perScrape((): Reading[] => {
    const found: Reading[] = [];
    for (const { spec, state } of engine.all()) {
      const metrics = spec.kind === 'system' ? state.lastResult?.metrics : undefined;
      if (metrics) found.push({ spec, metrics, labels: { service: spec.service, service_instance: spec.instance, ...labels.of(spec.service, spec.instance) } });
    }
    return found;
  });
  const extraNames = labels.names;

  /** One value per instance and label set: set() replaces a value of the same labels, so a later check of one instance wins. */
  const family = (spec: FamilySpec, pick: (reading: Reading, set: (value: number, more?: Record<string, string>) => void) => void): void => {
    r.gauge(
      spec,
      (set) => {
        for (const reading of readings()) pick(reading, (value, more) => set(more ? { ...reading.labels, ...more } : reading.labels, value));
      },
      [...spec.labelNames.slice(0, 2), ...extraNames, ...spec.labelNames.slice(2)],
    );
  };
  const single = (spec: FamilySpec, metric: string): void =>
    family(spec, (reading, set) => {
      const value = reading.metrics[metric];
      if (value !== undefined && Number.isFinite(value)) set(value);
    });

  single(FAMILIES.systemCpu, 'cpu_busy');
  single(FAMILIES.systemMemory, 'memory_used');
  family(FAMILIES.systemDisk, (reading, set) => {
    for (const { mount, metric } of diskKeys(reading.spec)) {
      const value = reading.metrics[metric];
      if (value !== undefined && Number.isFinite(value)) set(value, { mount });
    }
  });
  single(FAMILIES.systemLoad1, 'load1');
  single(FAMILIES.systemLoad5, 'load5');
  single(FAMILIES.systemLoad15, 'load15');
}
