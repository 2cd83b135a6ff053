/**
 * Prometheus families of the alerting module: alerts firing and pending by
 * level (counted on scrape from the rule engine's records), delivery tries
 * per notifier (counted as they happen) and the outbox's queue depth (read
 * from the alert store on scrape). Labels: level (3 values), notifier (the
 * config's names), outcome (3 values): bounded by the config.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Level } from '../alerts/types.js';
import { ALERT_FAMILIES } from './names.js';
import { Registrar } from './registrar.js';

const LEVELS: readonly Level[] = ['info', 'warning', 'critical'];

/** What the families read. */
export interface AlertMetricsSource {
  /** Every alert the rule engine holds now, with its state and level. */
  records(): Iterable<{ state: string; level: Level }>;
  /** Names of the configured notifiers. */
  notifiers(): readonly string[];
  /** Outbox rows waiting per notifier (a store read). */
  queued(): Promise<ReadonlyMap<string, number>>;
}

/** The families, registered; `delivery` counts a try, `unregister` takes them out. */
export interface AlertMetrics {
  delivery(notifier: string, outcome: 'delivered' | 'failed' | 'dead'): void;
  unregister(): void;
}

/** Register the alert families on a registry. */
export function registerAlertMetrics(registry: Registry, source: AlertMetricsSource, onError: (err: unknown, family: string) => void = () => {}): AlertMetrics {
  const r = new Registrar(registry, onError);
  const byState = (state: string) => (set: (labels: Record<string, string>, value: number) => void) => {
    const counts = new Map<Level, number>(LEVELS.map((l) => [l, 0]));
    for (const a of source.records()) if (a.state === state) counts.set(a.level, (counts.get(a.level) ?? 0) + 1);
    for (const [level, n] of counts) set({ level }, n);
  };
  r.gauge(ALERT_FAMILIES.alertsFiring, byState('firing'));
  r.gauge(ALERT_FAMILIES.alertsPending, byState('pending'));
  const tries = new Map<string, number>();
  r.counter(ALERT_FAMILIES.alertNotifications, (set) => {
    for (const [key, n] of tries) {
      const [notifier, outcome] = key.split('\u0000') as [string, string];
      set({ notifier, outcome }, n);
    }
  });
  // The outbox depth is a store read: an async collect(), which prom-client awaits.
  const spec = ALERT_FAMILIES.alertOutboxQueued;
  r.register(
    spec.name,
    new Gauge({
      name: spec.name,
      help: spec.help,
      labelNames: spec.labelNames,
      registers: [],
      async collect() {
        this.reset();
        try {
          const queued = await source.queued();
          for (const notifier of source.notifiers()) this.set({ notifier }, queued.get(notifier) ?? 0);
        } catch (err) {
          onError(err, spec.name);
          this.reset();
        }
      },
    }),
  );
  return {
    delivery(notifier, outcome) {
      const key = `${notifier}\u0000${outcome}`;
      tries.set(key, (tries.get(key) ?? 0) + 1);
    },
    unregister: () => r.unregister(),
  };
}
